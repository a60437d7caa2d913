namespace Capa.Storage.Tests.Assistants;

public sealed class SqliteAssistantStoreTests : AssistantStoreTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-sqlite-assistants-").FullName;

    protected override Task<IResponseStore> CreateStoreAsync() =>
        Task.FromResult(ResponseStores.CreateSqlite(Path.Combine(_directory, ResponseStores.SqliteFileName)));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
