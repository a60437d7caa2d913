namespace Capa.Storage.Tests.Sql;

[Collection(PostgresCollection.Name)]
public sealed class PostgresResponseStoreTests(PostgresCluster cluster) : ResponseStoreTests
{
    private string? _connectionString;

    protected override async Task<IResponseStore> CreateStoreAsync()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        _connectionString = await cluster.CreateDatabaseAsync(Ct);
        return ResponseStores.CreatePostgres(_connectionString);
    }

    protected override Task<IResponseStore> ReopenAsync() =>
        Task.FromResult(ResponseStores.CreatePostgres(_connectionString ?? throw new InvalidOperationException("No database yet.")));
}
