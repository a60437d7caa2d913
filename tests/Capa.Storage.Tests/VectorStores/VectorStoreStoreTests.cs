using Capa.Storage.Files;
using Capa.Storage.VectorStores;

namespace Capa.Storage.Tests.VectorStores;

/// <summary>The behaviour every <see cref="IVectorStoreStore"/> must have, run once per database (SQLite, PostgreSQL).</summary>
public abstract class VectorStoreStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private IResponseStore? _store;

    protected CancellationToken Ct => _timeout.Token;

    protected abstract Task<IResponseStore> CreateStoreAsync();

    /// <summary>Runs SQL on the store's database directly (to stage what an older server left behind).</summary>
    protected abstract Task ExecuteAsync(string sql);

    /// <summary>A second store instance on the database of the last <see cref="CreateStoreAsync"/> (another server sharing it).</summary>
    protected abstract IResponseStore OpenAgain(ResponseStoreOptions? options = null);

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _timeout.Dispose();
    }

    private async Task<IVectorStoreStore> StartAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(Ct);
        return (IVectorStoreStore)_store;
    }

    private static StoredVectorStore Store(long order) => new()
    {
        Id = StoreIds.New("vs_"),
        CreatedAt = order / 1000,
        OrderKey = order,
        Name = "知识库 " + order,
        MetadataJson = """{"k":"v"}""",
        LastActiveAt = order / 1000,
        EmbeddingModel = "test/bert",
    };

    private static StoredVectorStoreFile File(string store, string? fileId = null, long order = 1, string? batch = null) => new()
    {
        VectorStoreId = store,
        FileId = fileId ?? StoreIds.New("file-"),
        CreatedAt = order / 1000,
        OrderKey = order,
        Status = VectorStoreFileStatuses.InProgress,
        AttributesJson = """{"lang":"zh"}""",
        ChunkingJson = """{"type":"auto"}""",
        BatchId = batch,
    };

    [SkippableFact]
    public async Task A_store_with_files_is_stored_counted_completed_and_searched()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        var first = File(vs.Id, order: 1);
        var second = File(vs.Id, order: 2);
        await store.CreateVectorStoreAsync(vs, [first, second], Ct);
        Assert.Equal(vs, await store.GetVectorStoreAsync(vs.Id, Ct));
        Assert.Equal(new FileCounts(2, 0, 0, 0), await store.CountFilesAsync(vs.Id, null, Ct));
        Assert.Equal(2, (await store.ListPendingFilesAsync(10, Ct)).Count);

        float[] vector = [0.6f, 0.8f];
        Assert.True(await store.CompleteFileAsync(vs.Id, first.FileId, [new StoredChunk(0, "第一块", vector), new StoredChunk(1, "second", [1f, 0f])], 99, Ct));
        Assert.False(await store.CompleteFileAsync(vs.Id, first.FileId, [], 1, Ct));
        Assert.True(await store.FailFileAsync(vs.Id, second.FileId, """{"code":"unsupported_file","message":"no"}""", Ct));
        Assert.Equal(new FileCounts(0, 1, 1, 0), await store.CountFilesAsync(vs.Id, null, Ct));
        Assert.Equal(99, await store.UsageBytesAsync(vs.Id, Ct));
        Assert.Empty(await store.ListPendingFilesAsync(10, Ct));

        var chunks = await store.GetFileChunksAsync(vs.Id, first.FileId, Ct);
        Assert.Equal(["第一块", "second"], chunks.Select(c => c.Text));
        Assert.Equal(vector, chunks[0].Embedding);
        var searchable = await store.GetSearchableChunksAsync([vs.Id], Ct);
        Assert.Equal(2, searchable.Count);
        Assert.All(searchable, c => Assert.Equal("""{"lang":"zh"}""", c.AttributesJson));

        var failed = await store.GetFileAsync(vs.Id, second.FileId, Ct);
        Assert.Equal(VectorStoreFileStatuses.Failed, failed!.Status);
        Assert.Contains("unsupported_file", failed.LastErrorJson, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Files_list_by_status_page_and_update_attributes_and_leave_with_their_chunks()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        var files = Enumerable.Range(0, 5).Select(i => File(vs.Id, order: i + 1)).ToList();
        await store.CreateVectorStoreAsync(vs, files, Ct);
        await store.CompleteFileAsync(vs.Id, files[0].FileId, [new StoredChunk(0, "x", [1f])], 1, Ct);

        var page = await store.ListFilesAsync(vs.Id, new PageQuery { Limit = 2 }, Ct);
        Assert.Equal([files[4].FileId, files[3].FileId], page.Items.Select(f => f.FileId));
        Assert.True(page.HasMore);
        var next = await store.ListFilesAsync(vs.Id, new PageQuery { Limit = 10, After = files[3].FileId }, Ct);
        Assert.Equal([files[2].FileId, files[1].FileId, files[0].FileId], next.Items.Select(f => f.FileId));
        var before = await store.ListFilesAsync(vs.Id, new PageQuery { Descending = false, Before = files[2].FileId }, Ct);
        Assert.Equal([files[0].FileId, files[1].FileId], before.Items.Select(f => f.FileId));
        var completed = await store.ListFilesAsync(vs.Id, new PageQuery { Status = VectorStoreFileStatuses.Completed }, Ct);
        Assert.Equal([files[0].FileId], completed.Items.Select(f => f.FileId));

        var updated = await store.UpdateFileAttributesAsync(vs.Id, files[0].FileId, """{"year":2024}""", Ct);
        Assert.Equal("""{"year":2024}""", updated!.AttributesJson);
        Assert.Null(await store.UpdateFileAttributesAsync(vs.Id, "file-none", "{}", Ct));

        Assert.True(await store.RemoveFileAsync(vs.Id, files[0].FileId, Ct));
        Assert.False(await store.RemoveFileAsync(vs.Id, files[0].FileId, Ct));
        Assert.Empty(await store.GetFileChunksAsync(vs.Id, files[0].FileId, Ct));
        Assert.Equal(new FileCounts(4, 0, 0, 0), await store.CountFilesAsync(vs.Id, null, Ct));
    }

    [SkippableFact]
    public async Task A_cancelled_batch_cancels_only_its_pending_files()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        await store.CreateVectorStoreAsync(vs, [], Ct);
        var batch = new StoredFileBatch { Id = StoreIds.New("vsfb_"), VectorStoreId = vs.Id, CreatedAt = 1 };
        var files = Enumerable.Range(0, 3).Select(i => File(vs.Id, order: i + 1, batch: batch.Id)).ToList();
        await store.AddFilesAsync(vs.Id, batch, files, Ct);
        await store.AddFilesAsync(vs.Id, null, [File(vs.Id, order: 9)], Ct);
        await store.CompleteFileAsync(vs.Id, files[0].FileId, [], 0, Ct);

        var cancelled = await store.CancelBatchAsync(vs.Id, batch.Id, Ct);
        Assert.True(cancelled!.Cancelled);
        Assert.Equal(new FileCounts(0, 1, 0, 2), await store.CountFilesAsync(vs.Id, batch.Id, Ct));
        Assert.Equal(new FileCounts(1, 1, 0, 2), await store.CountFilesAsync(vs.Id, null, Ct));
        Assert.False(await store.CompleteFileAsync(vs.Id, files[1].FileId, [], 0, Ct));
        Assert.Null(await store.CancelBatchAsync(vs.Id, "vsfb_none", Ct));
    }

    private static readonly string[] IndexTerms = ["cat", "the", "英", "zebra"];

    /// <summary>The statistics and postings as comparable text: chunk count, total terms, then term@file/position tf/length, sorted.</summary>
    private static async Task<string> IndexAsync(IVectorStoreStore store, IReadOnlyList<string> ids, Dictionary<string, string> names, CancellationToken ct)
    {
        var stats = await store.GetKeywordStatisticsAsync(ids, IndexTerms, ct);
        var postings = stats.Postings.Select(p => $"{p.Term}@{names[p.Chunk.FileId]}/{p.Chunk.Position} {p.Frequency}/{p.ChunkLength}").Order(StringComparer.Ordinal);
        return $"{stats.ChunkCount} {stats.TermCount}: " + string.Join(", ", postings);
    }

    [SkippableFact]
    public async Task The_keyword_index_follows_inserts_and_deletes()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        var a = File(vs.Id, order: 1);
        var b = File(vs.Id, order: 2);
        var names = new Dictionary<string, string> { [a.FileId] = "a", [b.FileId] = "b" };
        await store.CreateVectorStoreAsync(vs, [a, b], Ct);
        Assert.Equal("0 0: ", await IndexAsync(store, [vs.Id], names, Ct));

        await store.CompleteFileAsync(vs.Id, a.FileId, [new StoredChunk(0, "The cat sat on the mat.", [1f, 0f]), new StoredChunk(1, "英雄联盟 cat", [0f, 1f])], 1, Ct);
        await store.CompleteFileAsync(vs.Id, b.FileId, [new StoredChunk(0, "A dog.", [0.6f, 0.8f])], 1, Ct);

        // 6 + 5 (four ideographs and "cat") + 2 terms; "the" twice in a/0.
        Assert.Equal("3 13: cat@a/0 1/6, cat@a/1 1/5, the@a/0 2/6, 英@a/1 1/5", await IndexAsync(store, [vs.Id], names, Ct));

        // What the search reads besides: vectors without texts, completed files' attributes, and the winners' texts.
        var vectors = await store.GetChunkVectorsAsync([vs.Id], Ct);
        Assert.Equal(3, vectors.Count);
        Assert.Equal([0.6f, 0.8f], vectors.Single(v => v.Key.FileId == b.FileId).Embedding);
        Assert.Equal(2, (await store.GetFileAttributesAsync([vs.Id], Ct)).Count(f => f.AttributesJson == """{"lang":"zh"}"""));
        var chunks = await store.GetChunksAsync([new ChunkKey(vs.Id, a.FileId, 1), new ChunkKey(vs.Id, "file-none", 0), new ChunkKey(vs.Id, b.FileId, 0)], Ct);
        Assert.Equal(["英雄联盟 cat", "A dog."], chunks.Select(c => c.Text));
        Assert.Equal("""{"lang":"zh"}""", chunks[0].AttributesJson);

        // Removing a file, or attaching it again (its chunks dropped until it is ingested anew), takes it out.
        Assert.True(await store.RemoveFileAsync(vs.Id, a.FileId, Ct));
        Assert.Equal("1 2: ", await IndexAsync(store, [vs.Id], names, Ct));
        await store.AddFilesAsync(vs.Id, null, [File(vs.Id, b.FileId, order: 3)], Ct);
        Assert.Equal("0 0: ", await IndexAsync(store, [vs.Id], names, Ct));

        // Statistics add up over several stores; a deleted store's postings go with it.
        var other = Store(2000);
        var c = File(other.Id, order: 4);
        names[c.FileId] = "c";
        await store.CreateVectorStoreAsync(other, [c], Ct);
        await store.CompleteFileAsync(other.Id, c.FileId, [new StoredChunk(0, "cat cat", [1f, 0f])], 1, Ct);
        Assert.True(await store.CompleteFileAsync(vs.Id, b.FileId, [new StoredChunk(0, "the zebra", [1f, 0f])], 1, Ct));
        Assert.Equal("2 4: cat@c/0 2/2, the@b/0 1/2, zebra@b/0 1/2", await IndexAsync(store, [vs.Id, other.Id], names, Ct));
        Assert.True(await store.DeleteVectorStoreAsync(other.Id, Ct));
        Assert.Equal("1 2: the@b/0 1/2, zebra@b/0 1/2", await IndexAsync(store, [vs.Id, other.Id], names, Ct));
    }

    [SkippableFact]
    public async Task Chunks_stored_before_the_keyword_index_are_indexed_when_the_store_starts()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        var a = File(vs.Id, order: 1);
        var names = new Dictionary<string, string> { [a.FileId] = "a" };
        await store.CreateVectorStoreAsync(vs, [a], Ct);
        await store.CompleteFileAsync(vs.Id, a.FileId, [new StoredChunk(0, "The cat sat on the mat.", [1f, 0f]), new StoredChunk(1, "英雄联盟 cat", [0f, 1f])], 1, Ct);
        var indexed = await IndexAsync(store, [vs.Id], names, Ct);

        // As a database migrated from before the index holds them: chunks without postings, statistics at zero.
        await ExecuteAsync("DELETE FROM vector_store_terms");
        await ExecuteAsync("UPDATE vector_store_chunks SET term_count = -1");
        await ExecuteAsync("UPDATE vector_stores SET indexed_chunks = 0, indexed_terms = 0");
        Assert.Equal("0 0: ", await IndexAsync(store, [vs.Id], names, Ct));

        await ((IResponseStore)store).InitializeAsync(Ct);
        Assert.Equal(indexed, await IndexAsync(store, [vs.Id], names, Ct));
        await ((IResponseStore)store).InitializeAsync(Ct);
        Assert.Equal(indexed, await IndexAsync(store, [vs.Id], names, Ct));
    }

    /// <summary>Keys and vector bits of the blocks, row by row, as text: equal strings mean bitwise equal vectors.</summary>
    private static string Rows(IEnumerable<ChunkVectorBlock> blocks) => string.Join("\n", blocks.SelectMany(b => Enumerable.Range(0, b.Count)
        .Select(r => $"{b.Key(r)} {string.Join(",", b.Vector(r).ToArray().Select(BitConverter.SingleToInt32Bits))}")));

    /// <summary>Each row's cosine with the query (the vectors are unit length), by key: the score the search ranks by.</summary>
    private static List<(ChunkKey Key, double Score)> Scores(IEnumerable<ChunkVectorBlock> blocks, float[] query) =>
        [.. blocks.SelectMany(b => Enumerable.Range(0, b.Count).Select(r => (b.Key(r), Dot(query, b.Vector(r))))).OrderByDescending(x => x.Item2).ThenBy(x => x.Item1.FileId, StringComparer.Ordinal).ThenBy(x => x.Item1.Position)];

    private static double Dot(float[] query, ReadOnlySpan<float> row)
    {
        float sum = 0;
        for (var i = 0; i < query.Length; i++)
        {
            sum += query[i] * row[i];
        }

        return sum;
    }

    private static float[] UnitVector(Random random, int dimensions)
    {
        var v = new float[dimensions];
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static List<StoredChunk> RandomChunks(Random random, int count, string word) =>
        [.. Enumerable.Range(0, count).Select(i => new StoredChunk(i, $"{word} chunk {i} 第{i}块", UnitVector(random, 16)))];

    private async Task AssertSameAsDatabaseAsync(IVectorStoreStore store, string[] ids, float[] query)
    {
        var fromMemory = await store.GetVectorBlocksAsync(ids, Ct);
        var fromDatabase = ChunkVectorBlock.From(await store.GetChunkVectorsAsync(ids, Ct));
        Assert.Equal(Rows([fromDatabase]), Rows(fromMemory));
        var expected = Scores([fromDatabase], query);
        var actual = Scores(fromMemory, query);
        Assert.Equal(expected.Select(e => e.Key), actual.Select(a => a.Key));
        Assert.Equal(expected.Select(e => BitConverter.DoubleToInt64Bits(e.Score)), actual.Select(a => BitConverter.DoubleToInt64Bits(a.Score)));
    }

    [SkippableFact]
    public async Task Vectors_kept_in_memory_equal_the_database_and_follow_changes_made_through_another_server()
    {
        var store = await StartAsync();
        var random = new Random(7);
        var query = UnitVector(random, 16);
        var vs = Store(1000);
        var a = File(vs.Id, order: 1);
        var b = File(vs.Id, order: 2);
        await store.CreateVectorStoreAsync(vs, [a, b], Ct);
        Assert.Equal(0, (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single().Count);
        await store.CompleteFileAsync(vs.Id, a.FileId, RandomChunks(random, 20, "alpha"), 1, Ct);

        // Loaded once, then served from memory while nothing changes.
        await AssertSameAsDatabaseAsync(store, [vs.Id], query);
        var first = (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single();
        Assert.Same(first, (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single());
        Assert.Equal(20, first.Count);

        // Another server sharing the database adds, removes and re-attaches files: the next search sees each change.
        var other = OpenAgain();
        try
        {
            var otherStore = (IVectorStoreStore)other;
            Assert.True(await otherStore.CompleteFileAsync(vs.Id, b.FileId, RandomChunks(random, 15, "beta"), 1, Ct));
            var afterAdd = (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single();
            Assert.NotSame(first, afterAdd);
            Assert.Equal(35, afterAdd.Count);
            await AssertSameAsDatabaseAsync(store, [vs.Id], query);

            Assert.True(await otherStore.RemoveFileAsync(vs.Id, a.FileId, Ct));
            Assert.Equal(15, (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single().Count);
            await AssertSameAsDatabaseAsync(store, [vs.Id], query);

            await otherStore.AddFilesAsync(vs.Id, null, [File(vs.Id, b.FileId, order: 3)], Ct);
            Assert.Equal(0, (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single().Count);

            // Several stores at once, each its own block; a deleted store is left out.
            var second = Store(2000);
            var c = File(second.Id, order: 4);
            await otherStore.CreateVectorStoreAsync(second, [c], Ct);
            await otherStore.CompleteFileAsync(second.Id, c.FileId, RandomChunks(random, 5, "gamma"), 1, Ct);
            Assert.True(await store.CompleteFileAsync(vs.Id, b.FileId, RandomChunks(random, 3, "delta"), 1, Ct));
            await AssertSameAsDatabaseAsync(store, [vs.Id, second.Id], query);
            Assert.Equal([3, 5], (await store.GetVectorBlocksAsync([vs.Id, second.Id, "vs_none"], Ct)).Select(x => x.Count));
            Assert.True(await otherStore.DeleteVectorStoreAsync(second.Id, Ct));
            Assert.Equal([3], (await store.GetVectorBlocksAsync([vs.Id, second.Id], Ct)).Select(x => x.Count));
        }
        finally
        {
            await other.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Without_memory_for_vectors_every_search_reads_them_and_gets_the_same_rows()
    {
        await StartAsync();
        var store = (IVectorStoreStore)OpenAgain(new ResponseStoreOptions { VectorCacheBytes = 0 });
        try
        {
            var random = new Random(3);
            var vs = Store(1000);
            var a = File(vs.Id, order: 1);
            await store.CreateVectorStoreAsync(vs, [a], Ct);
            await store.CompleteFileAsync(vs.Id, a.FileId, RandomChunks(random, 10, "alpha"), 1, Ct);
            var first = (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single();
            var second = (await store.GetVectorBlocksAsync([vs.Id], Ct)).Single();
            Assert.NotSame(first, second);
            Assert.Equal(Rows([first]), Rows([second]));
            await AssertSameAsDatabaseAsync(store, [vs.Id], UnitVector(random, 16));
        }
        finally
        {
            await ((IResponseStore)store).DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_database_from_before_the_chunk_version_is_migrated_and_its_vectors_kept_in_memory()
    {
        var store = await StartAsync();
        var random = new Random(5);
        var vs = Store(1000);
        var a = File(vs.Id, order: 1);
        var b = File(vs.Id, order: 2);
        await store.CreateVectorStoreAsync(vs, [a, b], Ct);
        await store.CompleteFileAsync(vs.Id, a.FileId, RandomChunks(random, 4, "alpha"), 1, Ct);

        // As a server of schema version 5 left it: no chunk version column.
        await ExecuteAsync("ALTER TABLE vector_stores DROP COLUMN chunks_version");
        await ExecuteAsync("UPDATE capa_schema_version SET version = 5");
        var upgraded = OpenAgain();
        try
        {
            await upgraded.InitializeAsync(Ct);
            var upgradedStore = (IVectorStoreStore)upgraded;
            var query = UnitVector(random, 16);
            await AssertSameAsDatabaseAsync(upgradedStore, [vs.Id], query);
            var block = (await upgradedStore.GetVectorBlocksAsync([vs.Id], Ct)).Single();
            Assert.Equal(4, block.Count);
            Assert.Same(block, (await upgradedStore.GetVectorBlocksAsync([vs.Id], Ct)).Single());
            await upgradedStore.CompleteFileAsync(vs.Id, b.FileId, RandomChunks(random, 2, "beta"), 1, Ct);
            Assert.Equal(6, (await upgradedStore.GetVectorBlocksAsync([vs.Id], Ct)).Single().Count);
            await AssertSameAsDatabaseAsync(upgradedStore, [vs.Id], query);
        }
        finally
        {
            await upgraded.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Bulk_ingestion_stores_exactly_the_postings_the_terms_of_each_chunk_give()
    {
        var store = await StartAsync();
        var vs = Store(1000);
        var a = File(vs.Id, order: 1);
        await store.CreateVectorStoreAsync(vs, [a], Ct);
        var random = new Random(11);
        string[] vocabulary = ["the", "cat", "英", "雄", "联", "盟", "café", "naïve", "zebra", "42", "ß", "e\u0301", "🙂ok", "dog"];
        var chunks = Enumerable.Range(0, 60).Select(i => new StoredChunk(i,
            string.Join(i % 3 == 0 ? "" : " ", Enumerable.Range(0, 5 + random.Next(40)).Select(_ => vocabulary[random.Next(vocabulary.Length)])), UnitVector(random, 16))).ToList();
        Assert.True(await store.CompleteFileAsync(vs.Id, a.FileId, chunks, 1, Ct));

        // What the index must hold, from the definition: every distinct term of every chunk with its count and the chunk's length.
        var expected = new List<string>();
        long total = 0;
        foreach (var chunk in chunks)
        {
            var (frequencies, length) = KeywordTerms.Count(chunk.Text);
            total += length;
            expected.AddRange(frequencies.Select(f => $"{f.Key}/{chunk.Position} {f.Value}/{length}"));
        }

        var terms = chunks.SelectMany(c => KeywordTerms.Split(c.Text)).Distinct(StringComparer.Ordinal).ToList();
        var stats = await store.GetKeywordStatisticsAsync([vs.Id], terms, Ct);
        Assert.Equal(60, stats.ChunkCount);
        Assert.Equal(total, stats.TermCount);
        Assert.Equal(expected.Order(StringComparer.Ordinal), stats.Postings.Select(p => $"{p.Term}/{p.Chunk.Position} {p.Frequency}/{p.ChunkLength}").Order(StringComparer.Ordinal));
        Assert.Equal(chunks.Select(c => c.Text), (await store.GetFileChunksAsync(vs.Id, a.FileId, Ct)).Select(c => c.Text));
    }

    [SkippableFact]
    public async Task Deleting_a_store_or_a_file_removes_what_refers_to_it()
    {
        var store = await StartAsync();
        var files = (IFileStore)store;
        var fileRow = new StoredFile { Id = StoreIds.New("file-"), Bytes = 1, CreatedAt = 1, Filename = "a", Purpose = "assistants", Sha256 = new string('1', 64) };
        await files.CreateFileAsync(fileRow, Ct);
        var vs = Store(1000);
        var other = Store(2000);
        await store.CreateVectorStoreAsync(vs, [File(vs.Id, fileRow.Id)], Ct);
        await store.CreateVectorStoreAsync(other, [File(other.Id, fileRow.Id)], Ct);
        await store.CompleteFileAsync(vs.Id, fileRow.Id, [new StoredChunk(0, "x", [1f])], 1, Ct);
        Assert.Single((await store.GetKeywordStatisticsAsync([vs.Id], ["x"], Ct)).Postings);

        await files.DeleteFileAsync(fileRow.Id, Ct);
        Assert.Null(await store.GetFileAsync(vs.Id, fileRow.Id, Ct));
        Assert.Null(await store.GetFileAsync(other.Id, fileRow.Id, Ct));
        Assert.Empty(await store.GetSearchableChunksAsync([vs.Id, other.Id], Ct));
        Assert.Equal(0, (await store.GetKeywordStatisticsAsync([vs.Id], ["x"], Ct)).ChunkCount);
        Assert.Empty((await store.GetKeywordStatisticsAsync([vs.Id], ["x"], Ct)).Postings);

        Assert.True(await store.DeleteVectorStoreAsync(vs.Id, Ct));
        Assert.False(await store.DeleteVectorStoreAsync(vs.Id, Ct));
        Assert.Null(await store.GetVectorStoreAsync(vs.Id, Ct));
        var list = await store.ListVectorStoresAsync(new PageQuery(), Ct);
        Assert.Equal([other.Id], list.Items.Select(s => s.Id));
    }
}

public sealed class SqliteVectorStoreStoreTests : VectorStoreStoreTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-sqlite-vs-").FullName;

    protected override Task<IResponseStore> CreateStoreAsync() =>
        Task.FromResult(ResponseStores.CreateSqlite(Path.Combine(_directory, ResponseStores.SqliteFileName)));

    protected override async Task ExecuteAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(_directory, ResponseStores.SqliteFileName));
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    protected override IResponseStore OpenAgain(ResponseStoreOptions? options = null) =>
        ResponseStores.CreateSqlite(Path.Combine(_directory, ResponseStores.SqliteFileName), options);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(Capa.Storage.Tests.Sql.PostgresCollection.Name)]
public sealed class PostgresVectorStoreStoreTests(Capa.Storage.Tests.Sql.PostgresCluster cluster) : VectorStoreStoreTests
{
    private string? _connectionString;

    protected override async Task<IResponseStore> CreateStoreAsync()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        _connectionString = await cluster.CreateDatabaseAsync(Ct);
        return ResponseStores.CreatePostgres(_connectionString);
    }

    protected override IResponseStore OpenAgain(ResponseStoreOptions? options = null) => ResponseStores.CreatePostgres(_connectionString!, options);

    protected override async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
