using Capa.Storage.Sql;

namespace Capa.Storage;

/// <summary>Creates the configured <see cref="IResponseStore"/>.</summary>
public static class ResponseStores
{
    /// <summary>The SQLite file name under the data directory.</summary>
    public const string SqliteFileName = "state.db";

    /// <summary>A store in one SQLite file (created with its folder when missing).</summary>
    public static IResponseStore CreateSqlite(string path) => new SqliteResponseStore(path);

    /// <summary>A store in PostgreSQL, from an Npgsql connection string.</summary>
    public static IResponseStore CreatePostgres(string connectionString) => new PostgresResponseStore(connectionString);

    /// <summary>
    /// PostgreSQL when <paramref name="postgresConnectionString"/> is set, else SQLite in
    /// <see cref="SqliteFileName"/> under <paramref name="dataDirectory"/>.
    /// </summary>
    public static IResponseStore Create(string dataDirectory, string? postgresConnectionString) =>
        string.IsNullOrWhiteSpace(postgresConnectionString)
            ? CreateSqlite(Path.Combine(dataDirectory, SqliteFileName))
            : CreatePostgres(postgresConnectionString);
}
