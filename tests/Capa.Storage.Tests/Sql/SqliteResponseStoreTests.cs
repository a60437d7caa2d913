namespace Capa.Storage.Tests.Sql;

public sealed class SqliteResponseStoreTests : ResponseStoreTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-sqlite-").FullName;

    private string DatabasePath => Path.Combine(_directory, "data", ResponseStores.SqliteFileName);

    protected override Task<IResponseStore> CreateStoreAsync() => Task.FromResult(ResponseStores.CreateSqlite(DatabasePath));

    protected override Task<IResponseStore> ReopenAsync() => Task.FromResult(ResponseStores.CreateSqlite(DatabasePath));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_file_is_in_wal_mode_at_the_latest_schema_version()
    {
        await using var store = (Capa.Storage.Sql.SqliteResponseStore)ResponseStores.CreateSqlite(DatabasePath);
        await store.InitializeAsync(Ct);
        Assert.Equal(Capa.Storage.Sql.Schema.Migrations.Count, await store.GetSchemaVersionAsync(Ct));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_database_from_a_newer_server_is_refused()
    {
        await using (var store = ResponseStores.CreateSqlite(DatabasePath))
        {
            await store.InitializeAsync(Ct);
        }

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE capa_schema_version SET version = 99";
            await command.ExecuteNonQueryAsync(Ct);
        }

        await using var newer = ResponseStores.CreateSqlite(DatabasePath);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => newer.InitializeAsync(Ct));
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
    }
}
