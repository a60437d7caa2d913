using Capa.Storage.Tests.Sql;

namespace Capa.Storage.Tests.Files;

[Collection(PostgresCollection.Name)]
public sealed class PostgresFileStoreTests(PostgresCluster cluster) : FileStoreTests
{
    protected override async Task<IResponseStore> CreateStoreAsync()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        return ResponseStores.CreatePostgres(await cluster.CreateDatabaseAsync(Ct));
    }
}
