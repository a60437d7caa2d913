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

        await files.DeleteFileAsync(fileRow.Id, Ct);
        Assert.Null(await store.GetFileAsync(vs.Id, fileRow.Id, Ct));
        Assert.Null(await store.GetFileAsync(other.Id, fileRow.Id, Ct));
        Assert.Empty(await store.GetSearchableChunksAsync([vs.Id, other.Id], Ct));

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
    protected override async Task<IResponseStore> CreateStoreAsync()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        return ResponseStores.CreatePostgres(await cluster.CreateDatabaseAsync(Ct));
    }
}
