using Capa.Storage.Tests.Sql;

namespace Capa.Storage.Tests.Assistants;

[Collection(PostgresCollection.Name)]
public sealed class PostgresAssistantStoreTests(PostgresCluster cluster) : AssistantStoreTests
{
    protected override async Task<IResponseStore> CreateStoreAsync()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        return ResponseStores.CreatePostgres(await cluster.CreateDatabaseAsync(Ct));
    }
}
