using System.Text;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Storage;
using Capa.Storage.Files;
using Capa.Storage.VectorStores;
using Capa.TestModels.Embeddings;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.VectorStores;

public sealed class IngestionRestartTests
{
    [Fact]
    public async Task Files_left_in_progress_by_a_stopped_server_are_ingested_by_the_next_one()
    {
        var root = Directory.CreateTempSubdirectory("capa-vs-restart-").FullName;
        try
        {
            var models = Path.Combine(root, "models");
            var state = Path.Combine(root, "state");
            BertEncoderWriter.Write(new BertEncoderSpec { Seed = 4 }, Path.Combine(models, "test", "bert-tiny"));

            // What a server leaves when it is killed after acknowledging files and before ingesting them:
            // bytes and rows committed, every vector store file in_progress.
            const int Count = 40;
            var vectorStoreId = StoreIds.New("vs_");
            await using (var store = ResponseStores.CreateSqlite(Path.Combine(state, ResponseStores.SqliteFileName)))
            {
                await store.InitializeAsync(CancellationToken.None);
                var content = new FileContentStore(Path.Combine(state, "files"));
                var entries = new List<StoredVectorStoreFile>();
                for (var i = 0; i < Count; i++)
                {
                    using var staged = await content.StageAsync(new MemoryStream(Encoding.UTF8.GetBytes($"note {i} mentions token{i}")), 1 << 20, CancellationToken.None);
                    await staged!.CommitAsync(CancellationToken.None);
                    var file = new StoredFile { Id = StoreIds.New("file-"), Bytes = staged.Length, CreatedAt = 1, Filename = $"n{i}.txt", Purpose = "assistants", Sha256 = staged.Sha256 };
                    await ((IFileStore)store).CreateFileAsync(file, CancellationToken.None);
                    entries.Add(new StoredVectorStoreFile
                    {
                        VectorStoreId = vectorStoreId, FileId = file.Id, CreatedAt = 1, OrderKey = i, Status = VectorStoreFileStatuses.InProgress,
                        AttributesJson = "{}", ChunkingJson = Capa.Protocol.VectorStores.ChunkingStrategy.Auto.ToJson(),
                    });
                }

                await ((IVectorStoreStore)store).CreateVectorStoreAsync(new StoredVectorStore
                {
                    Id = vectorStoreId, CreatedAt = 1, MetadataJson = "{}", LastActiveAt = 1, EmbeddingModel = "test/bert-tiny",
                }, entries, CancellationToken.None);
            }

            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, StateDirectory = state },
                b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 }));
            string body = "";
            for (var i = 0; i < 600 && !body.Contains("\"in_progress\":0", StringComparison.Ordinal); i++)
            {
                await Task.Delay(100);
                body = await server.Http.GetStringAsync($"/v1/vector_stores/{vectorStoreId}");
            }

            Assert.Contains("\"in_progress\":0", body, StringComparison.Ordinal);
            Assert.Contains($"\"completed\":{Count}", body, StringComparison.Ordinal);
            Assert.Contains($"\"total\":{Count}", body, StringComparison.Ordinal);
            Assert.Contains("\"status\":\"completed\"", body, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }
}
