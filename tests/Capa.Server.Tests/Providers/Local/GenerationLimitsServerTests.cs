using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// Each local model's admission limits (key/value cache budget, generation queue) come from the server's settings
/// (option over config file over the engine's defaults), and a full queue is OpenAI's 429 with <c>Retry-After</c>.
/// </summary>
public sealed class GenerationLimitsServerTests : IDisposable
{
    private const string ModelId = "test/tiny";
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-generation-limits-" + Guid.NewGuid().ToString("N"));

    public GenerationLimitsServerTests() =>
        TestModelWriter.Write(
            new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 },
            Path.Combine(_models, "test", "tiny"));

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        if (Directory.Exists(_models + ".cache"))
        {
            Directory.Delete(_models + ".cache", recursive: true);
        }
    }

    private Task<CapaTestServer> StartAsync(CapaServerOptions options) =>
        CapaTestServer.StartAsync(options, builder => builder.Services.AddLocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            CacheDirectory = _models + ".cache",
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions
            {
                Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
                Scheduler = new GenerationSchedulerOptions { RetryAfter = TimeSpan.FromSeconds(3) },
            },
        }));

    private static GenerationSchedulerOptions Scheduler(CapaTestServer server) =>
        ((LocalChatProvider)server.Services.GetService(typeof(LocalChatProvider))!).GetModel(ModelId)!.Engine.Scheduler.Options;

    [Fact]
    public async Task Limits_ComeFromTheOption_ElseTheConfigFile_ElseTheDefaults()
    {
        var config = Path.Combine(_models, "capa.json");
        await File.WriteAllTextAsync(config, """{ "limits": { "kv_cache_bytes": 1048576, "generation_queue_length": 3 } }""");

        await using (var server = await StartAsync(new CapaServerOptions()))
        {
            Assert.Equal((GenerationSchedulerOptions.DefaultKvCacheBudgetBytes, 64), (Scheduler(server).KvCacheBudgetBytes, Scheduler(server).MaxQueuedRequests));
        }

        await using (var server = await StartAsync(new CapaServerOptions { ConfigFile = config }))
        {
            Assert.Equal((1048576L, 3), (Scheduler(server).KvCacheBudgetBytes, Scheduler(server).MaxQueuedRequests));
        }

        await using (var server = await StartAsync(new CapaServerOptions { ConfigFile = config, KvCacheBudgetBytes = 4096, GenerationQueueLength = 0 }))
        {
            Assert.Equal((4096L, 0), (Scheduler(server).KvCacheBudgetBytes, Scheduler(server).MaxQueuedRequests));
        }
    }

    [Fact]
    public async Task RequestBeyondTheBudgetAndAFullQueue_Is429WithRetryAfter_InOpenAIsShape()
    {
        // A budget smaller than one request: the first runs alone, and with no queue the next is refused.
        await using var server = await StartAsync(new CapaServerOptions { KvCacheBudgetBytes = 1024, GenerationQueueLength = 0 });
        var provider = (LocalChatProvider)server.Services.GetService(typeof(LocalChatProvider))!;
        var model = provider.GetModel(ModelId)!;
        // Sixteen choices that cannot end before the context does: busy for far longer than the refused request takes.
        var banned = model.Engine.EosTokenIds.Select(id => $"\"{id}\": -100");
        var longBody = $$"""{"model":"{{ModelId}}","stream":true,"n":16,"logit_bias":{{{string.Join(",", banned)}}},"messages":[{"role":"user","content":"Hi"}]}""";
        using var longRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(longBody, Encoding.UTF8, "application/json") };
        using var running = await server.Http.SendAsync(longRequest, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
        await using var events = await running.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(events);
        Assert.StartsWith("data:", await reader.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal(1, model.Engine.Scheduler.Running);

        var body = JsonSerializer.Serialize(new { model = ModelId, max_tokens = 2, messages = new[] { new { role = "user", content = "Hi" } } });
        using var refused = await server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        using var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        var e = error.RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", e.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
        Assert.True(e.TryGetProperty("type", out _) && e.TryGetProperty("param", out _));
    }
}
