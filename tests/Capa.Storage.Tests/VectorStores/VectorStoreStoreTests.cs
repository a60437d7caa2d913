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

    protected override async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }
}
