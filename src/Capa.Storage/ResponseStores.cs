using Capa.Storage.Sql;

namespace Capa.Storage;

/// <summary>Creates the configured <see cref="IResponseStore"/>.</summary>
public static class ResponseStores
{
    /// <summary>The SQLite file name under the data directory.</summary>
    public const string SqliteFileName = "state.db";

    /// <summary>A store in one SQLite file (created with its folder when missing).</summary>
    public static IResponseStore CreateSqlite(string path, ResponseStoreOptions? options = null) => new SqliteResponseStore(path, options ?? new ResponseStoreOptions());

    /// <summary>A store in PostgreSQL, from an Npgsql connection string.</summary>
    public static IResponseStore CreatePostgres(string connectionString, ResponseStoreOptions? options = null) => new PostgresResponseStore(connectionString, options ?? new ResponseStoreOptions());

    /// <summary>
    /// PostgreSQL when <paramref name="postgresConnectionString"/> is set, else SQLite in
    /// <see cref="SqliteFileName"/> under <paramref name="dataDirectory"/>.
    /// </summary>
    public static IResponseStore Create(string dataDirectory, string? postgresConnectionString, ResponseStoreOptions? options = null) =>
        string.IsNullOrWhiteSpace(postgresConnectionString)
            ? CreateSqlite(Path.Combine(dataDirectory, SqliteFileName), options)
            : CreatePostgres(postgresConnectionString, options);
}
