using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Capa.Storage.VectorStores;

namespace Capa.Storage.Sql;

/// <summary>The <see cref="IVectorStoreStore"/> half of the store.</summary>
internal abstract partial class SqlResponseStore : IVectorStoreStore
{
    private const string StoreColumns = "id, sort_key, created_at, name, metadata, expires_after_days, last_active_at, embedding_model";
    private const string VsFileColumns = "vector_store_id, file_id, sort_key, created_at, status, last_error, attributes, chunking, usage_bytes, batch_id";

    public async Task CreateVectorStoreAsync(StoredVectorStore store, IReadOnlyList<StoredVectorStoreFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(files);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var insert = Command(connection, transaction,
                $"INSERT INTO vector_stores ({StoreColumns}) VALUES (@id, @sort, @created, @name, @metadata, @days, @active, @model)",
                ("id", store.Id), ("sort", store.OrderKey ?? store.CreatedAt * 1000), ("created", store.CreatedAt), ("name", store.Name),
                ("metadata", store.MetadataJson), ("days", store.ExpiresAfterDays), ("active", store.LastActiveAt), ("model", store.EmbeddingModel));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException($"A vector store with id '{store.Id}' exists.", e);
        }

        foreach (var file in files)
        {
            await UpsertVsFileAsync(connection, transaction, file, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredVectorStore?> GetVectorStoreAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, $"SELECT {StoreColumns} FROM vector_stores WHERE id = @id", ("id", id));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadStore(reader) : null;
    }

    public async Task<Page<StoredVectorStore>> ListVectorStoresAsync(PageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = new StringBuilder($"SELECT {StoreColumns} FROM vector_stores WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        if (!await AppendCursorsAsync(connection, sql, parameters, "vector_stores", "id", "1 = 1", query, cancellationToken).ConfigureAwait(false))
        {
            return new Page<StoredVectorStore>([], false);
        }

        return await ReadPageAsync(connection, sql, parameters, "id", query, ReadStore, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UpdateVectorStoreAsync(StoredVectorStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Command(connection, null,
            "UPDATE vector_stores SET name = @name, metadata = @metadata, expires_after_days = @days, last_active_at = @active WHERE id = @id",
            ("name", store.Name), ("metadata", store.MetadataJson), ("days", store.ExpiresAfterDays), ("active", store.LastActiveAt), ("id", store.Id));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<bool> DeleteVectorStoreAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in new[] { "vector_store_terms", "vector_store_chunks", "vector_store_files", "vector_store_file_batches" })
        {
            await using var delete = Command(connection, transaction, $"DELETE FROM {table} WHERE vector_store_id = @id", ("id", id));
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var store = Command(connection, transaction, "DELETE FROM vector_stores WHERE id = @id", ("id", id));
        var deleted = await store.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    public async Task<FileCounts> CountFilesAsync(string vectorStoreId, string? batchId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = batchId is null
            ? Command(connection, null, "SELECT status, COUNT(*) FROM vector_store_files WHERE vector_store_id = @vs GROUP BY status", ("vs", vectorStoreId))
            : Command(connection, null, "SELECT status, COUNT(*) FROM vector_store_files WHERE vector_store_id = @vs AND batch_id = @batch GROUP BY status", ("vs", vectorStoreId), ("batch", batchId));
        long inProgress = 0, completed = 0, failed = 0, cancelled = 0;
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var count = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            switch (reader.GetString(0))
            {
                case VectorStoreFileStatuses.InProgress: inProgress = count; break;
                case VectorStoreFileStatuses.Completed: completed = count; break;
                case VectorStoreFileStatuses.Failed: failed = count; break;
                case VectorStoreFileStatuses.Cancelled: cancelled = count; break;
            }
        }

        return new FileCounts(inProgress, completed, failed, cancelled);
    }

    public async Task<long> UsageBytesAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT COALESCE(SUM(usage_bytes), 0) FROM vector_store_files WHERE vector_store_id = @vs", ("vs", vectorStoreId));
        return Convert.ToInt64(await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    public async Task AddFilesAsync(string vectorStoreId, StoredFileBatch? batch, IReadOnlyList<StoredVectorStoreFile> files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (batch is not null)
        {
            await using var insert = Command(connection, transaction,
                "INSERT INTO vector_store_file_batches (id, vector_store_id, created_at, cancelled) VALUES (@id, @vs, @created, 0)",
                ("id", batch.Id), ("vs", vectorStoreId), ("created", batch.CreatedAt));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var file in files)
        {
            await UpsertVsFileAsync(connection, transaction, file, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredVectorStoreFile?> GetFileAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetVsFileAsync(connection, null, vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Page<StoredVectorStoreFile>> ListFilesAsync(string vectorStoreId, PageQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = new StringBuilder($"SELECT {VsFileColumns} FROM vector_store_files WHERE vector_store_id = @vs");
        var parameters = new List<(string, object?)> { ("vs", vectorStoreId) };
        if (query.Status is not null)
        {
            sql.Append(" AND status = @status");
            parameters.Add(("status", query.Status));
        }

        if (query.BatchId is not null)
        {
            sql.Append(" AND batch_id = @batch");
            parameters.Add(("batch", query.BatchId));
        }

        if (!await AppendCursorsAsync(connection, sql, parameters, "vector_store_files", "file_id", "vector_store_id = @vs", query, cancellationToken).ConfigureAwait(false))
        {
            return new Page<StoredVectorStoreFile>([], false);
        }

        return await ReadPageAsync(connection, sql, parameters, "file_id", query, ReadVsFile, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredVectorStoreFile?> UpdateFileAttributesAsync(string vectorStoreId, string fileId, string attributesJson, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var update = Command(connection, transaction, "UPDATE vector_store_files SET attributes = @a WHERE vector_store_id = @vs AND file_id = @f",
            ("a", attributesJson), ("vs", vectorStoreId), ("f", fileId)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }
        }

        var file = await GetVsFileAsync(connection, transaction, vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return file;
    }

    public async Task<bool> RemoveFileAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await DeleteChunksAsync(connection, transaction, vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
        await using var delete = Command(connection, transaction, "DELETE FROM vector_store_files WHERE vector_store_id = @vs AND file_id = @f", ("vs", vectorStoreId), ("f", fileId));
        var removed = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    public async Task<bool> CompleteFileAsync(string vectorStoreId, string fileId, IReadOnlyList<StoredChunk> chunks, long usageBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The status update comes first: it takes the row's write lock (PostgreSQL) so a second server completing the
        // same file waits, then finds it no longer in progress.
        await using (var update = Command(connection, transaction,
            "UPDATE vector_store_files SET status = @done, usage_bytes = @usage, last_error = NULL WHERE vector_store_id = @vs AND file_id = @f AND status = @pending",
            ("done", VectorStoreFileStatuses.Completed), ("usage", usageBytes), ("vs", vectorStoreId), ("f", fileId), ("pending", VectorStoreFileStatuses.InProgress)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }
        }

        await DeleteChunksAsync(connection, transaction, vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
        await InsertChunksAsync(connection, transaction, vectorStoreId, fileId, chunks, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Inserts a file's chunks with their keyword postings and adds them to the store's keyword statistics.</summary>
    private static async Task InsertChunksAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<StoredChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        // The chunk command is reused with its parameters rebound per row; postings go in multi-row statements (a file
        // has thousands, and a round trip each is what ingestion would wait on, PostgreSQL's most of all).
        await using var insertChunk = Command(connection, transaction,
            "INSERT INTO vector_store_chunks (vector_store_id, file_id, position, text, embedding, term_count) VALUES (@vs, @f, @p, @text, @e, @n)",
            ("vs", vectorStoreId), ("f", fileId), ("p", 0L), ("text", ""), ("e", Array.Empty<byte>()), ("n", 0L));
        var postings = new List<(string Term, long Position, long Frequency, long Length)>();
        long totalTerms = 0;
        foreach (var chunk in chunks)
        {
            var (frequencies, length) = KeywordTerms.Count(chunk.Text);
            totalTerms += length;
            insertChunk.Parameters[2].Value = (long)chunk.Position;
            insertChunk.Parameters[3].Value = chunk.Text;
            insertChunk.Parameters[4].Value = MemoryMarshal.AsBytes(chunk.Embedding.AsSpan()).ToArray();
            insertChunk.Parameters[5].Value = (long)length;
            await insertChunk.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            postings.AddRange(frequencies.Select(f => (f.Key, (long)chunk.Position, (long)f.Value, (long)length)));
        }

        await InsertPostingsAsync(connection, transaction, vectorStoreId, fileId, postings, cancellationToken).ConfigureAwait(false);
        await AddToStatisticsAsync(connection, transaction, vectorStoreId, chunks.Count, totalTerms, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts one file's postings, <see cref="PostingsPerStatement"/> rows per statement.</summary>
    private static async Task InsertPostingsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId,
        List<(string Term, long Position, long Frequency, long Length)> postings, CancellationToken cancellationToken)
    {
        for (var start = 0; start < postings.Count; start += PostingsPerStatement)
        {
            var count = Math.Min(PostingsPerStatement, postings.Count - start);
            var sql = new StringBuilder("INSERT INTO vector_store_terms (vector_store_id, term, file_id, position, frequency, chunk_terms) VALUES ");
            var parameters = new List<(string, object?)>((count * 4) + 2) { ("vs", vectorStoreId), ("f", fileId) };
            for (var i = 0; i < count; i++)
            {
                var (term, position, frequency, length) = postings[start + i];
                sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(@vs, @t{i}, @f, @p{i}, @tf{i}, @n{i})");
                parameters.Add((string.Create(CultureInfo.InvariantCulture, $"t{i}"), term));
                parameters.Add((string.Create(CultureInfo.InvariantCulture, $"p{i}"), position));
                parameters.Add((string.Create(CultureInfo.InvariantCulture, $"tf{i}"), frequency));
                parameters.Add((string.Create(CultureInfo.InvariantCulture, $"n{i}"), length));
            }

            await using var insert = Command(connection, transaction, sql.ToString(), [.. parameters]);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rows per posting insert: 4 parameters each, far below SQLite's and PostgreSQL's parameter limits.</summary>
    private const int PostingsPerStatement = 250;

    private static async Task AddToStatisticsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, long chunks, long terms, CancellationToken cancellationToken)
    {
        await using var update = Command(connection, transaction,
            "UPDATE vector_stores SET indexed_chunks = indexed_chunks + @chunks, indexed_terms = indexed_terms + @terms WHERE id = @vs",
            ("chunks", chunks), ("terms", terms), ("vs", vectorStoreId));
        await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Indexes the chunks stored before the keyword index existed (<c>term_count</c> -1), a batch per transaction;
    /// each chunk is claimed by its own conditional update, so servers starting together index each once.
    /// </summary>
    private async Task IndexUnindexedChunksAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var batch = new List<(string VectorStoreId, string FileId, long Position, string Text)>();
            await using (var select = Command(connection, transaction,
                "SELECT vector_store_id, file_id, position, text FROM vector_store_chunks WHERE term_count < 0 ORDER BY vector_store_id, file_id, position LIMIT 500"))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    batch.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
                }
            }

            if (batch.Count == 0)
            {
                return;
            }

            foreach (var chunk in batch)
            {
                var (frequencies, length) = KeywordTerms.Count(chunk.Text);
                await using (var claim = Command(connection, transaction,
                    "UPDATE vector_store_chunks SET term_count = @n WHERE vector_store_id = @vs AND file_id = @f AND position = @p AND term_count < 0",
                    ("n", (long)length), ("vs", chunk.VectorStoreId), ("f", chunk.FileId), ("p", chunk.Position)))
                {
                    if (await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                    {
                        continue;
                    }
                }

                await InsertPostingsAsync(connection, transaction, chunk.VectorStoreId, chunk.FileId,
                    [.. frequencies.Select(f => (f.Key, chunk.Position, (long)f.Value, (long)length))], cancellationToken).ConfigureAwait(false);
                await AddToStatisticsAsync(connection, transaction, chunk.VectorStoreId, 1, length, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> FailFileAsync(string vectorStoreId, string fileId, string lastErrorJson, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Command(connection, null,
            "UPDATE vector_store_files SET status = @failed, last_error = @error WHERE vector_store_id = @vs AND file_id = @f AND status = @pending",
            ("failed", VectorStoreFileStatuses.Failed), ("error", lastErrorJson), ("vs", vectorStoreId), ("f", fileId), ("pending", VectorStoreFileStatuses.InProgress));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<StoredVectorStoreFile>> ListPendingFilesAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            string.Create(CultureInfo.InvariantCulture, $"SELECT {VsFileColumns} FROM vector_store_files WHERE status = @pending ORDER BY sort_key, file_id LIMIT {Math.Clamp(limit, 1, 10_000)}"),
            ("pending", VectorStoreFileStatuses.InProgress));
        var files = new List<StoredVectorStoreFile>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add(ReadVsFile(reader));
        }

        return files;
    }

    public async Task<StoredFileBatch?> GetBatchAsync(string vectorStoreId, string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetBatchAsync(connection, null, vectorStoreId, batchId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredFileBatch?> CancelBatchAsync(string vectorStoreId, string batchId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var update = Command(connection, transaction, "UPDATE vector_store_file_batches SET cancelled = 1 WHERE id = @id AND vector_store_id = @vs", ("id", batchId), ("vs", vectorStoreId)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }
        }

        await using (var files = Command(connection, transaction,
            "UPDATE vector_store_files SET status = @cancelled WHERE vector_store_id = @vs AND batch_id = @id AND status = @pending",
            ("cancelled", VectorStoreFileStatuses.Cancelled), ("vs", vectorStoreId), ("id", batchId), ("pending", VectorStoreFileStatuses.InProgress)))
        {
            await files.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var batch = await GetBatchAsync(connection, transaction, vectorStoreId, batchId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return batch;
    }

    public async Task<IReadOnlyList<StoredChunk>> GetFileChunksAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            "SELECT position, text, embedding FROM vector_store_chunks WHERE vector_store_id = @vs AND file_id = @f ORDER BY position", ("vs", vectorStoreId), ("f", fileId));
        var chunks = new List<StoredChunk>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            chunks.Add(new StoredChunk((int)reader.GetInt64(0), reader.GetString(1), ToFloats((byte[])reader.GetValue(2))));
        }

        return chunks;
    }

    public async Task<IReadOnlyList<SearchableChunk>> GetSearchableChunksAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var chunks = new List<SearchableChunk>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            await using var select = Command(connection, null,
                "SELECT c.file_id, f.attributes, c.position, c.text, c.embedding FROM vector_store_chunks c JOIN vector_store_files f "
                + "ON f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id WHERE c.vector_store_id = @vs AND f.status = @done ORDER BY c.file_id, c.position",
                ("vs", id), ("done", VectorStoreFileStatuses.Completed));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                chunks.Add(new SearchableChunk(id, reader.GetString(0), reader.GetString(1), (int)reader.GetInt64(2), reader.GetString(3), ToFloats((byte[])reader.GetValue(4))));
            }
        }

        return chunks;
    }

    public async Task<IReadOnlyList<ChunkVector>> GetChunkVectorsAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var vectors = new List<ChunkVector>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            // Chunks exist only for completed files: they are written with the status, and dropped when it changes.
            await using var select = Command(connection, null,
                "SELECT file_id, position, embedding FROM vector_store_chunks WHERE vector_store_id = @vs ORDER BY file_id, position", ("vs", id));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                vectors.Add(new ChunkVector(new ChunkKey(id, reader.GetString(0), (int)reader.GetInt64(1)), ToFloats((byte[])reader.GetValue(2))));
            }
        }

        return vectors;
    }

    public async Task<IReadOnlyList<VectorStoreFileAttributes>> GetFileAttributesAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var files = new List<VectorStoreFileAttributes>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            await using var select = Command(connection, null,
                "SELECT file_id, attributes FROM vector_store_files WHERE vector_store_id = @vs AND status = @done", ("vs", id), ("done", VectorStoreFileStatuses.Completed));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                files.Add(new VectorStoreFileAttributes(id, reader.GetString(0), reader.GetString(1)));
            }
        }

        return files;
    }

    public async Task<KeywordStatistics> GetKeywordStatisticsAsync(IReadOnlyList<string> vectorStoreIds, IReadOnlyCollection<string> terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        ArgumentNullException.ThrowIfNull(terms);
        long chunkCount = 0, termCount = 0;
        var postings = new List<KeywordPosting>();
        var distinctTerms = terms.Distinct(StringComparer.Ordinal).ToList();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);

        // One transaction: on SQLite one snapshot, so the statistics and the postings agree while a file is being
        // completed; PostgreSQL's read committed can let one search see a file's statistics a statement early.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            await using (var stats = Command(connection, transaction, "SELECT indexed_chunks, indexed_terms FROM vector_stores WHERE id = @vs", ("vs", id)))
            await using (var reader = await stats.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    chunkCount += reader.GetInt64(0);
                    termCount += reader.GetInt64(1);
                }
            }

            // A bounded IN list per statement; queries rarely have more than a few dozen terms.
            foreach (var slice in distinctTerms.Chunk(100))
            {
                var parameters = new List<(string, object?)> { ("vs", id) };
                parameters.AddRange(slice.Select((t, i) => ((string, object?))(string.Create(CultureInfo.InvariantCulture, $"t{i}"), t)));
                var list = string.Join(", ", Enumerable.Range(0, slice.Length).Select(i => string.Create(CultureInfo.InvariantCulture, $"@t{i}")));
                await using var select = Command(connection, transaction,
                    $"SELECT term, file_id, position, frequency, chunk_terms FROM vector_store_terms WHERE vector_store_id = @vs AND term IN ({list})", [.. parameters]);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    postings.Add(new KeywordPosting(new ChunkKey(id, reader.GetString(1), (int)reader.GetInt64(2)), reader.GetString(0), (int)reader.GetInt64(3), (int)reader.GetInt64(4)));
                }
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new KeywordStatistics(chunkCount, termCount, postings);
    }

    public async Task<IReadOnlyList<SearchableChunk>> GetChunksAsync(IReadOnlyList<ChunkKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var chunks = new List<SearchableChunk>(keys.Count);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            "SELECT f.attributes, c.text, c.embedding FROM vector_store_chunks c JOIN vector_store_files f "
            + "ON f.vector_store_id = c.vector_store_id AND f.file_id = c.file_id WHERE c.vector_store_id = @vs AND c.file_id = @f AND c.position = @p",
            ("vs", ""), ("f", ""), ("p", 0L));
        foreach (var key in keys)
        {
            select.Parameters[0].Value = key.VectorStoreId;
            select.Parameters[1].Value = key.FileId;
            select.Parameters[2].Value = (long)key.Position;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                chunks.Add(new SearchableChunk(key.VectorStoreId, key.FileId, reader.GetString(0), key.Position, reader.GetString(1), ToFloats((byte[])reader.GetValue(2))));
            }
        }

        return chunks;
    }

    /// <summary>Removes a deleted file from every vector store, in the file delete's transaction.</summary>
    private static async Task RemoveFileEverywhereAsync(DbConnection connection, DbTransaction transaction, string fileId, CancellationToken cancellationToken)
    {
        var stores = new List<string>();
        await using (var select = Command(connection, transaction, "SELECT DISTINCT vector_store_id FROM vector_store_files WHERE file_id = @f", ("f", fileId)))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                stores.Add(reader.GetString(0));
            }
        }

        foreach (var vectorStoreId in stores)
        {
            await DeleteChunksAsync(connection, transaction, vectorStoreId, fileId, cancellationToken).ConfigureAwait(false);
        }

        await using var delete = Command(connection, transaction, "DELETE FROM vector_store_files WHERE file_id = @f", ("f", fileId));
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static float[] ToFloats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes.AsSpan()).ToArray();

    /// <summary>Deletes a file's chunks with their postings, and takes them out of the store's keyword statistics.</summary>
    private static async Task DeleteChunksAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        // The statistics first, in one statement: it is a write, so on SQLite the transaction takes the write lock before
        // it reads anything (a read first would fail to upgrade when another writer committed meanwhile).
        const string Indexed = "FROM vector_store_chunks WHERE vector_store_id = @vs AND file_id = @f AND term_count >= 0";
        await using (var update = Command(connection, transaction,
            $"UPDATE vector_stores SET indexed_chunks = indexed_chunks - (SELECT COUNT(*) {Indexed}), indexed_terms = indexed_terms - (SELECT COALESCE(SUM(term_count), 0) {Indexed}) WHERE id = @vs",
            ("vs", vectorStoreId), ("f", fileId)))
        {
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var table in new[] { "vector_store_terms", "vector_store_chunks" })
        {
            await using var delete = Command(connection, transaction, $"DELETE FROM {table} WHERE vector_store_id = @vs AND file_id = @f", ("vs", vectorStoreId), ("f", fileId));
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task UpsertVsFileAsync(DbConnection connection, DbTransaction transaction, StoredVectorStoreFile file, CancellationToken cancellationToken)
    {
        await DeleteChunksAsync(connection, transaction, file.VectorStoreId, file.FileId, cancellationToken).ConfigureAwait(false);
        await using (var delete = Command(connection, transaction, "DELETE FROM vector_store_files WHERE vector_store_id = @vs AND file_id = @f", ("vs", file.VectorStoreId), ("f", file.FileId)))
        {
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var insert = Command(connection, transaction,
            $"INSERT INTO vector_store_files ({VsFileColumns}) VALUES (@vs, @f, @sort, @created, @status, @error, @attributes, @chunking, @usage, @batch)",
            ("vs", file.VectorStoreId), ("f", file.FileId), ("sort", file.OrderKey ?? file.CreatedAt * 1000), ("created", file.CreatedAt), ("status", file.Status),
            ("error", file.LastErrorJson), ("attributes", file.AttributesJson), ("chunking", file.ChunkingJson), ("usage", file.UsageBytes), ("batch", file.BatchId));
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<StoredVectorStoreFile?> GetVsFileAsync(DbConnection connection, DbTransaction? transaction, string vectorStoreId, string fileId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, $"SELECT {VsFileColumns} FROM vector_store_files WHERE vector_store_id = @vs AND file_id = @f", ("vs", vectorStoreId), ("f", fileId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadVsFile(reader) : null;
    }

    private static async Task<StoredFileBatch?> GetBatchAsync(DbConnection connection, DbTransaction? transaction, string vectorStoreId, string batchId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, "SELECT id, vector_store_id, created_at, cancelled FROM vector_store_file_batches WHERE id = @id AND vector_store_id = @vs", ("id", batchId), ("vs", vectorStoreId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredFileBatch { Id = reader.GetString(0), VectorStoreId = reader.GetString(1), CreatedAt = reader.GetInt64(2), Cancelled = reader.GetInt64(3) != 0 }
            : null;
    }

    /// <summary>Adds <c>after</c>/<c>before</c> conditions by the cursor rows' sort keys; false when a cursor does not exist.</summary>
    private static async Task<bool> AppendCursorsAsync(DbConnection connection, StringBuilder sql, List<(string, object?)> parameters, string table, string idColumn, string scope, PageQuery query, CancellationToken cancellationToken)
    {
        foreach (var (name, cursor, forward) in new[] { ("after", query.After, true), ("before", query.Before, false) })
        {
            if (cursor is null)
            {
                continue;
            }

            await using var select = Command(connection, null, $"SELECT sort_key FROM {table} WHERE {scope} AND {idColumn} = @cursor",
                [.. parameters.Where(p => p.Item1 == "vs"), ("cursor", cursor)]);
            var key = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (key is null or DBNull)
            {
                return false;
            }

            var past = forward == query.Descending ? "<" : ">";
            sql.Append(CultureInfo.InvariantCulture, $" AND (sort_key {past} @{name}_key OR (sort_key = @{name}_key AND {idColumn} {past} @{name}_id))");
            parameters.Add((name + "_key", Convert.ToInt64(key, CultureInfo.InvariantCulture)));
            parameters.Add((name + "_id", cursor));
        }

        return true;
    }

    private static async Task<Page<T>> ReadPageAsync<T>(DbConnection connection, StringBuilder sql, List<(string, object?)> parameters, string idColumn, PageQuery query, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(query.Limit, 1, 100);
        sql.Append(query.Descending ? $" ORDER BY sort_key DESC, {idColumn} DESC" : $" ORDER BY sort_key ASC, {idColumn} ASC");
        sql.Append(CultureInfo.InvariantCulture, $" LIMIT {limit + 1}");
        await using var select = Command(connection, null, sql.ToString(), [.. parameters]);
        var items = new List<T>(limit + 1);
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(read(reader));
            }
        }

        var hasMore = items.Count > limit;
        if (hasMore)
        {
            items.RemoveAt(items.Count - 1);
        }

        return new Page<T>(items, hasMore);
    }

    private static StoredVectorStore ReadStore(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        OrderKey = r.GetInt64(1),
        CreatedAt = r.GetInt64(2),
        Name = r.IsDBNull(3) ? null : r.GetString(3),
        MetadataJson = r.GetString(4),
        ExpiresAfterDays = r.IsDBNull(5) ? null : r.GetInt64(5),
        LastActiveAt = r.GetInt64(6),
        EmbeddingModel = r.GetString(7),
    };

    private static StoredVectorStoreFile ReadVsFile(DbDataReader r) => new()
    {
        VectorStoreId = r.GetString(0),
        FileId = r.GetString(1),
        OrderKey = r.GetInt64(2),
        CreatedAt = r.GetInt64(3),
        Status = r.GetString(4),
        LastErrorJson = r.IsDBNull(5) ? null : r.GetString(5),
        AttributesJson = r.GetString(6),
        ChunkingJson = r.GetString(7),
        UsageBytes = r.GetInt64(8),
        BatchId = r.IsDBNull(9) ? null : r.GetString(9),
    };
}
