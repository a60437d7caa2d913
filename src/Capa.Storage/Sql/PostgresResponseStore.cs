using System.Data.Common;
using Npgsql;

namespace Capa.Storage.Sql;

/// <summary>
/// The store in PostgreSQL, for several servers sharing responses and conversations. Migrations take an advisory lock
/// so servers starting together migrate once.
/// </summary>
internal sealed class PostgresResponseStore : SqlResponseStore
{
    /// <summary>The advisory lock key for migrations ("capa" in ASCII).</summary>
    private const long MigrationLockKey = 0x63617061;

    private readonly NpgsqlDataSource _dataSource;

    public PostgresResponseStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    protected override async Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key)", ("key", MigrationLockKey));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override string BlobType => "BYTEA";

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
