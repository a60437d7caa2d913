using Capa.Protocol.Files;
using Capa.Server.Responses;
using Capa.Storage;
using Capa.Server.Configuration;
using Capa.Storage.Files;
using Capa.Storage.Files.S3;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Files;

/// <summary>
/// Files: metadata in the state store, bytes in a <see cref="FileContentStore"/> under the data directory
/// (<c>{state}/files</c>) or in the S3-compatible bucket the config file names. Uploads stage their bytes first and write the row last, deletes remove the row first and the
/// bytes last, so a crash never leaves a row without bytes; leftovers (temporary files, unreferenced content) are
/// removed when the store opens and hourly, with expired files.
/// </summary>
internal sealed class FileService : IHostedService, IAsyncDisposable
{
    /// <summary>Content younger than this is never swept: its row may be being written by an upload in flight.</summary>
    private static readonly TimeSpan SweepMinimumAge = TimeSpan.FromMinutes(10);

    private readonly ResponseStoreAccessor _stores;
    private readonly TimeProvider _time;
    private readonly ILogger<FileService> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileContentStore? _content;
    private ITimer? _sweep;

    private readonly S3Options? _bucket;

    public FileService(ResponseStoreAccessor stores, ServerSettings settings, TimeProvider time, ILogger<FileService> logger)
    {
        _stores = stores;
        _bucket = settings.FilesBucket;
        _time = time;
        _logger = logger;
    }

    /// <summary>The metadata store.</summary>
    public ValueTask<IFileStore> GetStoreAsync(CancellationToken cancellationToken) => _stores.GetFileStoreAsync(cancellationToken);

    /// <summary>The content store, opened (and swept once) on first use.</summary>
    public async ValueTask<FileContentStore> GetContentAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _content) is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_content is null)
            {
                // Uploads are staged in the data directory either way; a bucket then keeps the bytes for every server.
                string root = Path.Combine(_stores.DataDirectory, "files");
                var content = _bucket is null ? new FileContentStore(root, _time) : new FileContentStore(root, new S3ContentBackend(_bucket, time: _time), shared: true);
                FilesLog.ContentAt(_logger, content.Location);
                Volatile.Write(ref _content, content);
                _sweep = _time.CreateTimer(_ => _ = SweepAsync(), null, TimeSpan.Zero, TimeSpan.FromHours(1));
            }

            return _content;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A file that exists and has not expired, or null.</summary>
    public async Task<StoredFile?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var file = await store.GetFileAsync(id, cancellationToken).ConfigureAwait(false);
        return file is null || IsExpired(file) ? null : file;
    }

    /// <summary>Now, as the server's clock reads it (files expire by it).</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Whether a file's expiry has passed (it is gone for clients even before the sweep removes it).</summary>
    public bool IsExpired(StoredFile file) => file.ExpiresAt is { } at && at <= _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Stores a staged upload: bytes moved to their address, then the row.</summary>
    public async Task<StoredFile> CreateAsync(StagedContent staged, string filename, FileUploadRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var content = await GetContentAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var created = now.ToUnixTimeSeconds();
        var file = new StoredFile
        {
            Id = StoreIds.New("file-"),
            Bytes = staged.Length,
            CreatedAt = created,
            OrderKey = now.ToUnixTimeMilliseconds(),
            ExpiresAt = request.ExpiresAfterSeconds is { } seconds ? created + seconds : null,
            Filename = filename,
            Purpose = request.Purpose,
            Sha256 = staged.Sha256,
        };

        // Not cancellable past this point: the bytes are moved and the row written together, or the row is missing
        // and the sweep removes the bytes.
        await content.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await staged.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            await store.CreateFileAsync(file, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            content.Lock.Release();
        }

        FilesLog.Stored(_logger, file.Id, file.Bytes, file.Purpose);
        return file;
    }

    /// <summary>Deletes a file's row, then its bytes when no other file has the same content.</summary>
    public async Task<StoredFile?> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var content = await GetContentAsync(cancellationToken).ConfigureAwait(false);
        await content.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deleted = await store.DeleteFileAsync(id, CancellationToken.None).ConfigureAwait(false);
            if (deleted is not null && !await store.IsContentReferencedAsync(deleted.Sha256, CancellationToken.None).ConfigureAwait(false))
            {
                await content.DeleteAsync(deleted.Sha256, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }

            return deleted;
        }
        finally
        {
            content.Lock.Release();
        }
    }

    private async Task SweepAsync()
    {
        try
        {
            var store = await GetStoreAsync(CancellationToken.None).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            foreach (var expired in await store.ListExpiredFilesAsync(now.ToUnixTimeSeconds(), 10_000, CancellationToken.None).ConfigureAwait(false))
            {
                await DeleteAsync(expired.Id, CancellationToken.None).ConfigureAwait(false);
            }

            var content = await GetContentAsync(CancellationToken.None).ConfigureAwait(false);
            var removed = await content.CleanAsync(store, SweepMinimumAge, now, CancellationToken.None).ConfigureAwait(false);
            if (removed > 0)
            {
                FilesLog.Swept(_logger, removed);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException or ObjectDisposedException or UnauthorizedAccessException)
        {
            FilesLog.SweepFailed(_logger, e.Message);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // With state already on disk, sweep what a crash left and what expired; a fresh server touches nothing.
        if (_stores.HasState)
        {
            await GetContentAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_sweep is not null)
        {
            await _sweep.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}
