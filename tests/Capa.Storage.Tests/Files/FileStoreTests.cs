using Capa.Storage.Files;

namespace Capa.Storage.Tests.Files;

/// <summary>The behaviour every <see cref="IFileStore"/> must have, run once per database (SQLite, PostgreSQL).</summary>
public abstract class FileStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private IResponseStore? _store;

    protected CancellationToken Ct => _timeout.Token;

    /// <summary>Creates a store over a fresh, empty database (skipping the test when the database cannot run here).</summary>
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

    private async Task<IFileStore> StartAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(Ct);
        return (IFileStore)_store;
    }

    private static StoredFile File(long orderKey, string purpose = "assistants", string? sha = null, long? expiresAt = null) => new()
    {
        Id = StoreIds.New("file-"),
        Bytes = 10 + orderKey,
        CreatedAt = orderKey / 1000,
        OrderKey = orderKey,
        ExpiresAt = expiresAt,
        Filename = "注释 " + orderKey + ".md",
        Purpose = purpose,
        Sha256 = sha ?? new string((char)('a' + (orderKey % 6)), 64),
    };

    [SkippableFact]
    public async Task A_file_is_stored_and_read_back_exactly_and_deleted_once()
    {
        var store = await StartAsync();
        var file = File(1_700_000_000_123, expiresAt: 1_700_003_600);
        await store.CreateFileAsync(file, Ct);

        Assert.Equal(file, await store.GetFileAsync(file.Id, Ct));
        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateFileAsync(file with { Filename = "other" }, Ct));
        Assert.Equal(file, await store.DeleteFileAsync(file.Id, Ct));
        Assert.Null(await store.DeleteFileAsync(file.Id, Ct));
        Assert.Null(await store.GetFileAsync(file.Id, Ct));
    }

    [SkippableFact]
    public async Task Lists_page_in_either_order_with_purpose_and_cursor()
    {
        var store = await StartAsync();
        var files = Enumerable.Range(0, 7).Select(i => File(1_700_000_000_000 + i, i % 2 == 0 ? "assistants" : "user_data")).ToList();
        foreach (var file in files.OrderBy(_ => Guid.NewGuid()))
        {
            await store.CreateFileAsync(file, Ct);
        }

        var newest = await store.ListFilesAsync(new FileQuery { Limit = 3 }, Ct);
        Assert.Equal(files.AsEnumerable().Reverse().Take(3).Select(f => f.Id), newest.Files.Select(f => f.Id));
        Assert.True(newest.HasMore);

        var next = await store.ListFilesAsync(new FileQuery { Limit = 10, After = newest.Files[^1].Id }, Ct);
        Assert.Equal(files.AsEnumerable().Reverse().Skip(3).Select(f => f.Id), next.Files.Select(f => f.Id));
        Assert.False(next.HasMore);

        var ascending = await store.ListFilesAsync(new FileQuery { Descending = false, Purpose = "assistants" }, Ct);
        Assert.Equal(files.Where(f => f.Purpose == "assistants").Select(f => f.Id), ascending.Files.Select(f => f.Id));

        var unknownCursor = await store.ListFilesAsync(new FileQuery { After = "file-unknown" }, Ct);
        Assert.Empty(unknownCursor.Files);
    }

    [SkippableFact]
    public async Task Expired_files_are_left_out_of_lists_and_listed_for_removal()
    {
        var store = await StartAsync();
        var expired = File(1_000, expiresAt: 100);
        var live = File(2_000, expiresAt: 10_000);
        var forever = File(3_000);
        await store.CreateFileAsync(expired, Ct);
        await store.CreateFileAsync(live, Ct);
        await store.CreateFileAsync(forever, Ct);

        var page = await store.ListFilesAsync(new FileQuery { Now = 500 }, Ct);
        Assert.Equal([forever.Id, live.Id], page.Files.Select(f => f.Id));
        Assert.Equal([expired.Id], (await store.ListExpiredFilesAsync(500, 100, Ct)).Select(f => f.Id));
    }

    [SkippableFact]
    public async Task Content_stays_referenced_while_any_file_has_it()
    {
        var store = await StartAsync();
        var sha = new string('7', 64);
        var first = File(1, sha: sha);
        var second = File(2, sha: sha);
        await store.CreateFileAsync(first, Ct);
        await store.CreateFileAsync(second, Ct);
        Assert.Equal(new HashSet<string> { sha }, await store.ListReferencedContentAsync(Ct));

        await store.DeleteFileAsync(first.Id, Ct);
        Assert.True(await store.IsContentReferencedAsync(sha, Ct));
        await store.DeleteFileAsync(second.Id, Ct);
        Assert.False(await store.IsContentReferencedAsync(sha, Ct));
        Assert.Empty(await store.ListReferencedContentAsync(Ct));
    }
}
