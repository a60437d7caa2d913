using System.ClientModel;
using System.Net;
using System.Text.Json;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Models;

namespace Capa.Server.Tests.Embeddings;

/// <summary>
/// <c>/v1/models</c> lists the local encoders and OpenAI's embedding ids that reach them, each once, with the
/// <c>embeddings</c> capability; each can be retrieved.
/// </summary>
public sealed class EmbeddingModelsListTests(EmbeddingsServerFixture fixture) : IClassFixture<EmbeddingsServerFixture>
{
    private static readonly string[] Aliases = ["text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"];

    private static OpenAIModelClient Client(CapaTestServer server) =>
        new(new ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl + "/v1") });

    private static async Task<List<JsonElement>> ListAsync(CapaTestServer server) =>
        [.. JsonElement.Parse(await server.Http.GetStringAsync("/v1/models")).GetProperty("data").EnumerateArray()];

    [Fact]
    public async Task The_installed_encoder_and_openais_ids_are_listed_once_with_the_embeddings_capability()
    {
        var data = await ListAsync(fixture.Server);
        var ids = data.Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        foreach (var id in Aliases.Prepend(EmbeddingsServerFixture.Model))
        {
            var model = Assert.Single(data, m => m.GetProperty("id").GetString() == id);
            Assert.Equal("model", model.GetProperty("object").GetString());
            Assert.Equal("capa", model.GetProperty("owned_by").GetString());
            Assert.True(model.GetProperty("created").GetInt64() > 0);
            Assert.Equal("""["embeddings"]""", model.GetProperty("capabilities").GetRawText());
        }

        // The tiny encoder stands in only where nothing is installed.
        Assert.DoesNotContain(CapaEmbeddingTiny.ModelId, ids);

        // The official SDK reads the list and each model.
        var listed = (await Client(fixture.Server).GetModelsAsync()).Value.Select(m => m.Id).ToList();
        Assert.Contains("text-embedding-3-small", listed);
        foreach (var id in Aliases.Prepend(EmbeddingsServerFixture.Model))
        {
            Assert.Equal(id, (await Client(fixture.Server).GetModelAsync(id)).Value.Id);
        }
    }

    [Fact]
    public async Task An_empty_store_lists_the_tiny_encoder_and_the_aliases_without_writing_it()
    {
        var root = Directory.CreateTempSubdirectory("capa-models-empty-").FullName;
        try
        {
            var models = Path.Combine(root, "models");
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, StateDirectory = Path.Combine(root, "state") },
                b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, IntraOpThreads = 1 }));
            var ids = (await ListAsync(server)).Where(m => m.GetProperty("capabilities").GetRawText().Contains("embeddings", StringComparison.Ordinal))
                .Select(m => m.GetProperty("id").GetString()).ToList();
            Assert.Equal([CapaEmbeddingTiny.ModelId, .. Aliases], ids);
            Assert.False(Directory.Exists(Path.Combine(models, "capa", "capa-embedding-tiny")));

            using var response = await server.Http.GetAsync("/v1/models/text-embedding-ada-002");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text-embedding-ada-002", JsonElement.Parse(await response.Content.ReadAsStringAsync()).GetProperty("id").GetString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
