using Capa.Server.Hosting;
using Capa.Storage;
using Capa.Storage.Files;
using Capa.Storage.VectorStores;

namespace Capa.Server.Responses;

/// <summary>
/// The server's <see cref="IResponseStore"/>, created and migrated on first use, so a server that never serves
/// Responses or Conversations touches no database. Finished responses older than the retention are deleted hourly.
/// </summary>
internal sealed class ResponseStoreAccessor : IAsyncDisposable
{
    private readonly CapaServerOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeProvider _time;
    private IResponseStore? _store;
    private ITimer? _cleanup;

    /// <param name="options">The resolved settings (the config file's and the environment's values applied), which hold the vector cache's size.</param>
    /// <param name="time">The clock of the retention timer.</param>
    public ResponseStoreAccessor(Configuration.ServerSettings options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    /// <summary>Whether the store is shared by several servers (PostgreSQL).</summary>
    public bool IsShared => !string.IsNullOrWhiteSpace(PostgresConnectionString);

    /// <summary>Whether state exists already (a SQLite file, or PostgreSQL configured).</summary>
    public bool HasState => IsShared || File.Exists(Path.Combine(ResolveDirectory(), ResponseStores.SqliteFileName));

    private string? PostgresConnectionString => _options.StatePostgresConnectionString ?? _options.GetEnvironmentVariable("CAPA_STATE_POSTGRES");

    public async ValueTask<IResponseStore> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _store) is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_store is not null)
            {
                return _store;
            }

            var store = ResponseStores.Create(ResolveDirectory(), PostgresConnectionString, new ResponseStoreOptions { VectorCacheBytes = _options.VectorCacheBytes });
            try
            {
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (_options.ResponseRetention is { } retention)
            {
                _cleanup = _time.CreateTimer(_ => _ = CleanupAsync(store, retention), null, TimeSpan.Zero, TimeSpan.FromHours(1));
            }

            Volatile.Write(ref _store, store);
            return store;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The same store seen as file metadata (one database holds every kind of state).</summary>
    public async ValueTask<IFileStore> GetFileStoreAsync(CancellationToken cancellationToken) =>
        (IFileStore)await GetAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The same store seen as vector stores.</summary>
    public async ValueTask<IVectorStoreStore> GetVectorStoreStoreAsync(CancellationToken cancellationToken) =>
        (IVectorStoreStore)await GetAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The folder for state that is not in the database (file bytes), beside the SQLite file.</summary>
    public string DataDirectory => ResolveDirectory();

    private async Task CleanupAsync(IResponseStore store, TimeSpan retention)
    {
        try
        {
            await store.DeleteExpiredAsync((_time.GetUtcNow() - retention).ToUnixTimeSeconds(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or ObjectDisposedException)
        {
            // The next run retries; stored responses stay readable meanwhile.
        }
    }

    private string ResolveDirectory()
    {
        if (_options.StateDirectory is { Length: > 0 } configured)
        {
            return configured;
        }

        if (_options.GetEnvironmentVariable("CAPA_STATE") is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
        {
            throw new InvalidOperationException("No state directory: set CAPA_STATE or the server's state directory.");
        }

        return Path.Combine(home, ".capa", "state");
    }

    public async ValueTask DisposeAsync()
    {
        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync().ConfigureAwait(false);
        }

        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }
}
