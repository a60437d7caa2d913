using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Embeddings;
using Capa.Server.Tests.Providers.Local;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Embeddings;

/// <summary>
/// Embedding inputs far beyond the encoder's context are refused with OpenAI's 400 <c>context_length_exceeded</c>
/// after tokenizing only as far as the limit, not the whole input.
/// </summary>
[Collection(MemoryMeasuredCollection.Name)]
public sealed class HugeEmbeddingInputTests(EmbeddingsServerFixture fixture) : IClassFixture<EmbeddingsServerFixture>
{
    private const int Concurrent = 32;
    private const int InputBytes = 10 * 1024 * 1024;

    [Fact]
    public async Task ABurstOfHugeInputs_IsRefused_AfterTokenizingOnlyUpToTheLimit()
    {
        var text = new StringBuilder().Insert(0, "火星上有生命吗？ Is there life on Mars? [SEP] \n", InputBytes / 60).ToString();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { model = EmbeddingsServerFixture.Model, input = text },
            new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.InRange(body.Length, InputBytes * 9 / 10, InputBytes * 11 / 10);

        var tokenizer = Assert.IsType<Capa.Tokenizers.WordPiece.WordPieceTokenizer>(fixture.Server.Services.GetRequiredService<EmbeddingService>().Resolve(EmbeddingsServerFixture.Model)!.Encoder.Tokenizer);
        var before = tokenizer.NormalizedChars;
        var answers = await Task.WhenAll(Enumerable.Range(0, Concurrent).Select(async _ =>
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await fixture.Server.Http.PostAsync("/v1/embeddings", content);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }));

        foreach (var (status, json) in answers)
        {
            Assert.Equal(HttpStatusCode.BadRequest, status);
            var error = json.GetProperty("error");
            Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
            Assert.Equal("input", error.GetProperty("param").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.StartsWith("This model's maximum context length is ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("at least", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Each input is read a piece (8 K characters) at a time until it passes the limit: a few pieces, where the
        // whole input is about 7 M characters.
        var normalized = tokenizer.NormalizedChars - before;
        Assert.True(normalized < Concurrent * 64L * 1024, $"{normalized} characters were tokenized for {Concurrent} inputs of {InputBytes} bytes");
    }
}
