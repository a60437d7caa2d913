using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

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

    public PostgresResponseStore(string connectionString, ResponseStoreOptions options)
        : base(options)
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

    /// <summary>The chunk rows by binary COPY: one stream instead of a round trip per row.</summary>
    protected override async Task InsertChunkRowsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<ChunkRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        await using var import = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
            "COPY vector_store_chunks (vector_store_id, file_id, position, text, embedding, term_count) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(vectorStoreId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(fileId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(row.Position, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(row.Text, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(row.Embedding, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(row.TermCount, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        }

        await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The postings by binary COPY (a file of 50 chunks has thousands).</summary>
    protected override async Task InsertPostingsAsync(DbConnection connection, DbTransaction transaction, string vectorStoreId, string fileId, IReadOnlyList<PostingRow> postings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(postings);
        if (postings.Count == 0)
        {
            return;
        }

        await using var import = await ((NpgsqlConnection)connection).BeginBinaryImportAsync(
            "COPY vector_store_terms (vector_store_id, term, file_id, position, frequency, chunk_terms) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false);
        foreach (var posting in postings)
        {
            await import.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(vectorStoreId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(posting.Term, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(fileId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(posting.Position, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(posting.Frequency, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await import.WriteAsync(posting.ChunkTerms, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
        }

        await import.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override string BlobType => "BYTEA";

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
