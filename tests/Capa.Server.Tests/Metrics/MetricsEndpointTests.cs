using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;

namespace Capa.Server.Tests.Metrics;

/// <summary><c>GET /metrics</c> serves Prometheus text with the HTTP requests by route and status and the text engine's figures.</summary>
public sealed class MetricsEndpointTests : IDisposable
{
    private const string ModelId = "test/tiny";
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-metrics-" + Guid.NewGuid().ToString("N"));

    public MetricsEndpointTests() =>
        TestModelWriter.Write(
            new TestModelSpec { Arch = TestModelArch.Llama, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 },
            Path.Combine(_models, "test", "tiny"));

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        if (Directory.Exists(_models + ".cache"))
        {
            Directory.Delete(_models + ".cache", recursive: true);
        }
    }

    private static double Sample(string text, string name) =>
        text.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Sum();

    [Fact]
    public async Task Metrics_CountRequestsByRouteAndStatus_AndTheEnginesTokens()
    {
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), builder => builder.Services.AddLocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            CacheDirectory = _models + ".cache",
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        }));

        var before = await server.Http.GetStringAsync("/metrics");
        var body = JsonSerializer.Serialize(new { model = ModelId, max_tokens = 5, seed = 3, messages = new[] { new { role = "user", content = "Hi" } } });
        using var ok = await server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var json = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        var usage = json.RootElement.GetProperty("usage");
        using var bad = await server.Http.PostAsync("/v1/chat/completions", new StringContent("{", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var after = await response.Content.ReadAsStringAsync();

        // The engine's meter: the counters are process-wide (other tests' servers may add to them), so compare at least.
        Assert.True(
            Sample(after, "capa_generation_prefill_tokens") - Sample(before, "capa_generation_prefill_tokens") >= usage.GetProperty("prompt_tokens").GetInt32(),
            after);
        Assert.True(Sample(after, "capa_generation_decode_tokens") - Sample(before, "capa_generation_decode_tokens") >= usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(Sample(after, "capa_generation_time_to_first_token_count") >= 1);
        Assert.Contains("capa_generation_inter_token_latency_bucket", after, StringComparison.Ordinal);
        Assert.Contains("capa_generation_kv_cache_reserved_bytes", after, StringComparison.Ordinal);
        Assert.Contains("capa_generation_queued_requests", after, StringComparison.Ordinal);

        // HTTP requests by route and status.
        var lines = after.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal) && l.Contains("code=\"200\"", StringComparison.Ordinal) && l.Contains("/v1/chat/completions", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal) && l.Contains("code=\"400\"", StringComparison.Ordinal) && l.Contains("/v1/chat/completions", StringComparison.Ordinal));
    }
}
