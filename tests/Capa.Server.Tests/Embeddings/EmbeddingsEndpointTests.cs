using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Embeddings;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Embeddings;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Embeddings;

namespace Capa.Server.Tests.Embeddings;

/// <summary>A server whose store holds one tiny BERT encoder (<c>test/bert-tiny</c>).</summary>
public sealed class EmbeddingsServerFixture : IAsyncLifetime
{
    public const string Model = "test/bert-tiny";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-embeddings-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public string Models => Path.Combine(_root, "models");

    public async Task InitializeAsync()
    {
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 3 }, Path.Combine(Models, "test", "bert-tiny"));
        Server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = Models, StateDirectory = Path.Combine(_root, "state") },
            b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = Models, CreateTinyWhenEmpty = false, IntraOpThreads = 1 }));
    }

    public EmbeddingClient Client(string model) => new(model, new ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    });

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class EmbeddingsEndpointTests(EmbeddingsServerFixture fixture) : IClassFixture<EmbeddingsServerFixture>
{
    private static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (var x in v)
        {
            sum += (double)x * x;
        }

        return Math.Sqrt(sum);
    }

    [Theory]
    [InlineData(EmbeddingsServerFixture.Model)]
    [InlineData("bert-tiny")]
    [InlineData("text-embedding-3-small")]
    [InlineData("text-embedding-ada-002")]
    public async Task The_sdk_gets_unit_vectors_from_the_local_model_under_its_id_and_openais(string model)
    {
        var client = fixture.Client(model);
        OpenAIEmbedding one = await client.GenerateEmbeddingAsync("英雄联盟 is a game.");
        var vector = one.ToFloats();
        Assert.Equal(32, vector.Length);
        Assert.Equal(1.0, Norm(vector.Span), 4);

        OpenAIEmbeddingCollection many = await client.GenerateEmbeddingsAsync(["first text", "英雄联盟 is a game.", "third"]);
        Assert.Equal([0, 1, 2], many.Select(e => e.Index));
        Assert.Equal(model, many.Model);
        Assert.True(many.Usage.InputTokenCount > 6);
        Assert.Equal(many.Usage.InputTokenCount, many.Usage.TotalTokenCount);
        for (var i = 0; i < vector.Length; i++)
        {
            Assert.Equal(vector.Span[i], many[1].ToFloats().Span[i], 5);
        }
    }

    [Fact]
    public async Task Dimensions_truncate_and_renormalise()
    {
        var client = fixture.Client("text-embedding-3-large");
        var full = (await client.GenerateEmbeddingAsync("shortened vectors")).Value.ToFloats().ToArray();
        var shortened = (await client.GenerateEmbeddingAsync("shortened vectors", new EmbeddingGenerationOptions { Dimensions = 8 })).Value.ToFloats().ToArray();
        Assert.Equal(8, shortened.Length);
        Assert.Equal(1.0, Norm(shortened), 4);
        var scale = Norm(full.AsSpan(0, 8));
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(full[i] / scale, shortened[i], 4);
        }
    }

    [Fact]
    public async Task Base64_is_the_little_endian_float32_of_the_float_answer()
    {
        var body = """{"model":"test/bert-tiny","input":"bytes on the wire","encoding_format":"base64"}""";
        using var base64 = await fixture.Server.Http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        using var floats = await fixture.Server.Http.PostAsync("/v1/embeddings", new StringContent(body.Replace("base64", "float", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        var encoded = JsonDocument.Parse(await base64.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0];
        Assert.Equal("embedding", encoded.GetProperty("object").GetString());
        var decoded = new float[32];
        Buffer.BlockCopy(Convert.FromBase64String(encoded.GetProperty("embedding").GetString()!), 0, decoded, 0, 128);
        var expected = JsonDocument.Parse(await floats.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle());
        Assert.Equal(expected, decoded);
    }

    [Fact]
    public async Task Token_arrays_embed_like_the_text_they_encode()
    {
        using var tokenizer = Capa.Engine.Embeddings.SentenceEncoder.Load(Path.Combine(fixture.Models, "test", "bert-tiny"));
        var ids = tokenizer.Tokenize("the model");
        var client = fixture.Client(EmbeddingsServerFixture.Model);
        var fromText = (await client.GenerateEmbeddingAsync("the model")).Value.ToFloats().ToArray();
        var fromIds = (await client.GenerateEmbeddingsAsync([ids])).Value[0].ToFloats().ToArray();
        Assert.Equal(fromText, fromIds);

        using var single = await fixture.Server.Http.PostAsync("/v1/embeddings", new StringContent(
            $$"""{"model":"test/bert-tiny","input":[{{string.Join(',', ids)}}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        Assert.Equal(ids.Length, JsonDocument.Parse(await single.Content.ReadAsStringAsync()).RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Theory]
    [InlineData("""{"model":"test/bert-tiny"}""", HttpStatusCode.BadRequest, "missing_required_parameter")]
    [InlineData("""{"input":"x"}""", HttpStatusCode.BadRequest, "missing_required_parameter")]
    [InlineData("""{"model":"test/bert-tiny","input":""}""", HttpStatusCode.BadRequest, "invalid_value")]
    [InlineData("""{"model":"test/bert-tiny","input":[]}""", HttpStatusCode.BadRequest, "empty_array")]
    [InlineData("""{"model":"test/bert-tiny","input":[1,"a"]}""", HttpStatusCode.BadRequest, "invalid_type")]
    [InlineData("""{"model":"test/bert-tiny","input":{"a":1}}""", HttpStatusCode.BadRequest, "invalid_type")]
    [InlineData("""{"model":"test/bert-tiny","input":[[1,2],[]]}""", HttpStatusCode.BadRequest, "invalid_type")]
    [InlineData("""{"model":"test/bert-tiny","input":[99999999]}""", HttpStatusCode.BadRequest, "invalid_value")]
    [InlineData("""{"model":"test/bert-tiny","input":"x","encoding_format":"hex"}""", HttpStatusCode.BadRequest, "invalid_value")]
    [InlineData("""{"model":"test/bert-tiny","input":"x","dimensions":0}""", HttpStatusCode.BadRequest, "integer_below_min_value")]
    [InlineData("""{"model":"test/bert-tiny","input":"x","dimensions":33}""", HttpStatusCode.BadRequest, "invalid_value")]
    [InlineData("""{"model":"no-such-embedder","input":"x"}""", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("""{"model":"test/bert-tiny","input":"x""", HttpStatusCode.BadRequest, null)]
    public async Task Bad_requests_get_openais_errors(string body, HttpStatusCode status, string? code)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorAssert.IsOpenAIErrorAsync(response, status, code);
    }

    [Fact]
    public async Task An_input_longer_than_the_model_is_refused_with_its_length()
    {
        var text = string.Join(' ', Enumerable.Repeat("model", 600));
        using var response = await fixture.Server.Http.PostAsync("/v1/embeddings", new StringContent(
            JsonSerializer.Serialize(new { model = "test/bert-tiny", input = new[] { "short", text } }), Encoding.UTF8, "application/json"));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "context_length_exceeded");
        Assert.Contains("512", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}

public sealed class EmbeddedDefaultEncoderTests
{
    [Fact]
    public async Task An_empty_store_serves_the_tiny_encoder_for_openais_ids_and_writes_it_once()
    {
        var root = Directory.CreateTempSubdirectory("capa-empty-store-").FullName;
        try
        {
            var models = Path.Combine(root, "models");
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, StateDirectory = Path.Combine(root, "state") },
                b => b.Services.AddSingleton(new EmbeddingOptions { ModelsDirectory = models, IntraOpThreads = 1 }));
            using var response = await server.Http.PostAsync("/v1/embeddings", new StringContent("""{"model":"text-embedding-3-small","input":"offline"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(File.Exists(Path.Combine(models, "capa", "capa-embedding-tiny", "onnx", "model.onnx")));
            using var byId = await server.Http.PostAsync("/v1/embeddings", new StringContent("""{"model":"capa-embedding-tiny","input":"offline"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(await response.Content.ReadAsStringAsync() is var a ? JsonDocument.Parse(a).RootElement.GetProperty("data")[0].GetProperty("embedding").GetRawText() : null,
                JsonDocument.Parse(await byId.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("embedding").GetRawText());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
