using System.Net;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Capa.Engine.Embeddings;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Embeddings;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.VectorStores;

/// <summary>
/// An e5 encoder (a folder named as intfloat publishes it, without a prompt file) in a vector store: chunks are embedded
/// as <c>passage: …</c> and searches as <c>query: …</c>, while <c>/v1/embeddings</c> embeds what it is sent.
/// </summary>
public sealed class EncoderPromptsTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-e5-" + Guid.NewGuid().ToString("N"));
    private CapaTestServer _server = null!;
    private SentenceEncoder _encoder = null!;

    private string Models => Path.Combine(_root, "models");

    private string ModelFolder => Path.Combine(Models, "intfloat", "multilingual-e5-small");

    public async Task InitializeAsync()
    {
        XlmRobertaEncoderWriter.Write(new BertEncoderSpec { Seed = 5 }, ModelFolder);
        _encoder = SentenceEncoder.Load(ModelFolder, new SentenceEncoderOptions { IntraOpThreads = 1 });
        _server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = Models, StateDirectory = Path.Combine(_root, "state") },
            b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = Models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 }));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _encoder.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task An_e5_store_embeds_passages_and_queries_with_their_prefixes_and_embeddings_stay_raw()
    {
        Assert.Equal(SentencePrompts.E5, _encoder.Prompts);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("assistants"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes("The jungle role controls objectives. The rare word here is quetzalcoatl.")), "file", "notes.txt" },
        };
        using var upload = await _server.Http.PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var fileId = (await ReadAsync(upload)).GetProperty("id").GetString();
        using var create = await _server.Http.PostAsync("/v1/vector_stores", Json(JsonSerializer.Serialize(new { file_ids = new[] { fileId } })));
        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        var storeId = (await ReadAsync(create)).GetProperty("id").GetString();
        await WaitCompletedAsync(storeId!);

        const string Query = "which note names quetzalcoatl?";
        using var search = await _server.Http.PostAsync($"/v1/vector_stores/{storeId}/search", Json(JsonSerializer.Serialize(new { query = Query, ranking_options = new { ranker = "none" } })));
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        var hit = Assert.Single((await ReadAsync(search)).GetProperty("data").EnumerateArray());
        var chunk = hit.GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.DoesNotContain("passage:", chunk, StringComparison.Ordinal);

        // With the "none" ranker the score is the cosine mapped to [0, 1]: it tells which texts were embedded.
        var score = hit.GetProperty("score").GetDouble();
        var prefixed = Score(_encoder.Encode(["query: " + Query])[0], _encoder.Encode(["passage: " + chunk])[0]);
        var raw = Score(_encoder.Encode([Query])[0], _encoder.Encode([chunk])[0]);
        Assert.True(Math.Abs(prefixed - raw) > 1e-3, $"the prefixes should change the score ({prefixed} vs {raw})");
        Assert.Equal(prefixed, score, 1e-4);

        // /v1/embeddings embeds the input as sent.
        using var embed = await _server.Http.PostAsync("/v1/embeddings", Json(JsonSerializer.Serialize(new { model = "multilingual-e5-small", input = Query })));
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
        var vector = (await ReadAsync(embed)).GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var expected = _encoder.Encode([Query])[0];
        Assert.Equal(expected.Length, vector.Length);
        Assert.All(expected.Zip(vector), p => Assert.Equal(p.First, p.Second, 1e-4f));
    }

    private static double Score(float[] query, float[] passage) => (Math.Clamp(TensorPrimitives.Dot(query, passage), -1, 1) + 1) / 2;

    private async Task WaitCompletedAsync(string storeId)
    {
        for (var i = 0; i < 1800; i++)
        {
            using var response = await _server.Http.GetAsync($"/v1/vector_stores/{storeId}");
            var counts = (await ReadAsync(response)).GetProperty("file_counts");
            if (counts.GetProperty("in_progress").GetInt32() == 0)
            {
                Assert.Equal(1, counts.GetProperty("completed").GetInt32());
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The vector store did not finish ingesting within 180 s.");
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
}
