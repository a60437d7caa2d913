namespace Capa.Storage.Tests.Files;

public sealed class SqliteFileStoreTests : FileStoreTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-sqlite-files-").FullName;

    protected override Task<IResponseStore> CreateStoreAsync() =>
        Task.FromResult(ResponseStores.CreateSqlite(Path.Combine(_directory, ResponseStores.SqliteFileName)));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
