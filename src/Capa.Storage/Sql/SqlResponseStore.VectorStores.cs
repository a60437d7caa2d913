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

    private readonly VectorBlockCache _vectorBlocks;

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
        _vectorBlocks.Remove(id);
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
    private async Task InsertChunksAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<StoredChunk> chunks, CancellationToken cancellationToken)
    {
        if (chunks.Count == 0)
        {
            return;
        }

        // Terms are counted here, in memory; the rows then go to the database in the dialect's fastest bulk way.
        var rows = new List<ChunkRow>(chunks.Count);
        var postings = new List<PostingRow>();
        long totalTerms = 0;
        foreach (var chunk in chunks)
        {
            var (frequencies, length) = KeywordTerms.Count(chunk.Text);
            totalTerms += length;
            rows.Add(new ChunkRow(chunk.Position, chunk.Text, MemoryMarshal.AsBytes(chunk.Embedding.AsSpan()).ToArray(), length));
            foreach (var (term, frequency) in frequencies)
            {
                postings.Add(new PostingRow(term, chunk.Position, frequency, length));
            }
        }

        // In the index's order: consecutive inserts land on neighbouring pages of the (store, term, file, position) key.
        postings.Sort(static (x, y) => string.CompareOrdinal(x.Term, y.Term) is var c and not 0 ? c : x.Position.CompareTo(y.Position));
        await InsertChunkRowsAsync(connection, transaction, vectorStoreId, fileId, rows, cancellationToken).ConfigureAwait(false);
        await InsertPostingsAsync(connection, transaction, vectorStoreId, fileId, postings, cancellationToken).ConfigureAwait(false);
        await AddToStatisticsAsync(connection, transaction, vectorStoreId, chunks.Count, totalTerms, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A chunk row as stored: its vector as little-endian float32 bytes, its length in terms.</summary>
    protected readonly record struct ChunkRow(long Position, string Text, byte[] Embedding, long TermCount);

    /// <summary>A keyword posting row: a term of a chunk, its count there and the chunk's length in terms.</summary>
    protected readonly record struct PostingRow(string Term, long Position, long Frequency, long ChunkTerms);

    /// <summary>Inserts one file's chunk rows in the open transaction: one prepared statement, parameters rebound per row.</summary>
    protected virtual async Task InsertChunkRowsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<ChunkRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        await using var insert = Command(connection, transaction,
            "INSERT INTO vector_store_chunks (vector_store_id, file_id, position, text, embedding, term_count) VALUES (@vs, @f, @p, @text, @e, @n)",
            ("vs", vectorStoreId), ("f", fileId), ("p", 0L), ("text", ""), ("e", Array.Empty<byte>()), ("n", 0L));
        foreach (var row in rows)
        {
            insert.Parameters[2].Value = row.Position;
            insert.Parameters[3].Value = row.Text;
            insert.Parameters[4].Value = row.Embedding;
            insert.Parameters[5].Value = row.TermCount;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Inserts one file's postings in the open transaction: one prepared single-row statement, parameters rebound per
    /// row (on SQLite a statement is a library call, not a round trip, so this is its bulk path).
    /// </summary>
    protected virtual async Task InsertPostingsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<PostingRow> postings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(postings);
        await using var insert = Command(connection, transaction,
            "INSERT INTO vector_store_terms (vector_store_id, term, file_id, position, frequency, chunk_terms) VALUES (@vs, @t, @f, @p, @tf, @n)",
            ("vs", vectorStoreId), ("t", ""), ("f", fileId), ("p", 0L), ("tf", 0L), ("n", 0L));
        await insert.PrepareAsync(cancellationToken).ConfigureAwait(false);
        foreach (var posting in postings)
        {
            insert.Parameters[1].Value = posting.Term;
            insert.Parameters[3].Value = posting.Position;
            insert.Parameters[4].Value = posting.Frequency;
            insert.Parameters[5].Value = posting.ChunkTerms;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task AddToStatisticsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, long chunks, long terms, CancellationToken cancellationToken)
    {
        await using var update = Command(connection, transaction,
            "UPDATE vector_stores SET indexed_chunks = indexed_chunks + @chunks, indexed_terms = indexed_terms + @terms, chunks_version = chunks_version + 1 WHERE id = @vs",
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
                    [.. frequencies.Select(f => new PostingRow(f.Key, chunk.Position, f.Value, length))], cancellationToken).ConfigureAwait(false);
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

    public async Task<IReadOnlyList<ChunkVectorBlock>> GetVectorBlocksAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var blocks = new List<ChunkVectorBlock>();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            if (await ReadChunksVersionAsync(connection, id, cancellationToken).ConfigureAwait(false) is not { } version)
            {
                _vectorBlocks.Remove(id);
                continue;
            }

            if (_vectorBlocks.Get(id, version) is { } cached)
            {
                blocks.Add(cached);
                continue;
            }

            // The version is read again after the rows: a single statement sees one committed state, and when the
            // version did not move in between, that state is the version's, so the block may be kept. When it moved,
            // the rows are still a committed state (newer than the search began) and serve this search only.
            var block = await ReadVectorBlockAsync(connection, id, version, cancellationToken).ConfigureAwait(false);
            if (await ReadChunksVersionAsync(connection, id, cancellationToken).ConfigureAwait(false) == version)
            {
                _vectorBlocks.Put(id, block);
            }

            blocks.Add(block);
        }

        return blocks;
    }

    private static async Task<long?> ReadChunksVersionAsync(DbConnection connection, string vectorStoreId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, null, "SELECT chunks_version FROM vector_stores WHERE id = @vs", ("vs", vectorStoreId));
        var value = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>A store's vectors straight into one array, in the order of <see cref="GetChunkVectorsAsync"/>.</summary>
    private static async Task<ChunkVectorBlock> ReadVectorBlockAsync(DbConnection connection, string vectorStoreId, long version, CancellationToken cancellationToken)
    {
        var keys = new List<ChunkKey>();
        var offsets = new List<int> { 0 };
        var values = new List<float>();
        string? lastFile = null;
        await using var select = Command(connection, null,
            "SELECT file_id, position, embedding FROM vector_store_chunks WHERE vector_store_id = @vs ORDER BY file_id, position", ("vs", vectorStoreId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // A file's rows share one id string.
            var fileId = reader.GetString(0);
            if (fileId != lastFile)
            {
                lastFile = fileId;
            }

            keys.Add(new ChunkKey(vectorStoreId, lastFile, (int)reader.GetInt64(1)));
            values.AddRange(MemoryMarshal.Cast<byte, float>(((byte[])reader.GetValue(2)).AsSpan()));
            offsets.Add(values.Count);
        }

        return new ChunkVectorBlock([.. keys], [.. offsets], [.. values], version);
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
            $"UPDATE vector_stores SET indexed_chunks = indexed_chunks - (SELECT COUNT(*) {Indexed}), indexed_terms = indexed_terms - (SELECT COALESCE(SUM(term_count), 0) {Indexed}), chunks_version = chunks_version + 1 WHERE id = @vs",
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
