using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Capa.Storage.Sql;

/// <summary>
/// The store in one SQLite file in WAL mode: readers never wait for the writer, and a committed transaction survives
/// the process being killed (synchronous=FULL also survives power loss).
/// </summary>
internal sealed class SqliteResponseStore : SqlResponseStore
{
    private const int SqliteConstraint = 19;
    private readonly string _path;
    private readonly string _connectionString;

    public SqliteResponseStore(string path, ResponseStoreOptions options)
        : base(options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path => _path;

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var pragmas = Command(connection, null, "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;");
            await pragmas.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (System.IO.Path.GetDirectoryName(_path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        // The journal mode is a property of the file: set once, it holds for every later connection.
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var wal = Command(connection, null, "PRAGMA journal_mode = WAL");
        var mode = await wal.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The state database '{_path}' could not be switched to WAL mode (journal mode: {mode}).");
        }
    }

    protected override string BlobType => "BLOB";

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteConstraint };

    public override ValueTask DisposeAsync()
    {
        // Pooled connections hold the file open (and its WAL): release them so the file can be moved or deleted.
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
