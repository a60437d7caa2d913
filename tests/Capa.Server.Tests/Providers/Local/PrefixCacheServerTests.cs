using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// Turn 2 of a chat and of a chain of responses reuses turn 1's prompt cache: <c>cached_tokens</c> says how many tokens,
/// and every byte of the output (text, logprobs, fingerprint) is what a server without the cache answers.
/// </summary>
public sealed class PrefixCacheServerTests : IAsyncLifetime
{
    private const string ModelId = "test/tiny";
    private const int Chunk = 16;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-prefix-cache-" + Guid.NewGuid().ToString("N"));
    private CapaTestServer _cached = null!;
    private CapaTestServer _plain = null!;

    private string Models => Path.Combine(_root, "models");

    public async Task InitializeAsync()
    {
        TestModelWriter.Write(
            new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 },
            Path.Combine(Models, "test", "tiny"));
        _cached = await StartAsync(new CapaServerOptions { StateDirectory = Path.Combine(_root, "state-cached") });
        _plain = await StartAsync(new CapaServerOptions { StateDirectory = Path.Combine(_root, "state-plain"), PrefixCacheBytes = 0 });
    }

    public async Task DisposeAsync()
    {
        await _cached.DisposeAsync();
        await _plain.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task<CapaTestServer> StartAsync(CapaServerOptions options) =>
        CapaTestServer.StartAsync(options, builder => builder.Services.AddLocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = Models,
            CacheDirectory = Path.Combine(_root, "cache"),
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1, PrefillChunkTokens = Chunk } },
        }));

    private static PrefixCache? CacheOf(CapaTestServer server) =>
        ((LocalChatProvider)server.Services.GetService(typeof(LocalChatProvider))!).GetModel(ModelId)!.Engine.PrefixCache;

    private static async Task<JsonObject> PostAsync(CapaTestServer server, string path, JsonObject body)
    {
        using var response = await server.Http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    // The events' data objects of an SSE body.
    private static async Task<List<JsonObject>> StreamAsync(CapaTestServer server, string path, JsonObject body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = new List<JsonObject>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                events.Add(JsonNode.Parse(line["data: ".Length..])!.AsObject());
            }
        }

        return events;
    }

    private static string Words(int salt) =>
        string.Join(" ", Enumerable.Range(0, 60).Select(i => (((i * 7) + salt) % 5) switch
        {
            0 => "the garden",
            1 => "a quiet river",
            2 => "walks north",
            3 => "under bright lights",
            _ => "and then",
        }));

    private static JsonObject Chat(JsonArray messages, bool stream = false)
    {
        var body = new JsonObject
        {
            ["model"] = ModelId,
            ["messages"] = messages,
            ["max_tokens"] = 8,
            ["seed"] = 42,
            ["temperature"] = 0.9,
            ["logprobs"] = true,
            ["top_logprobs"] = 2,
        };
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return body;
    }

    private static JsonArray Turn2(string answer) =>
    [
        new JsonObject { ["role"] = "system", ["content"] = "You are terse. " + Words(1) },
        new JsonObject { ["role"] = "user", ["content"] = Words(2) },
        new JsonObject { ["role"] = "assistant", ["content"] = answer },
        new JsonObject { ["role"] = "user", ["content"] = "And next? " + Words(3) },
    ];

    private static JsonArray Turn1() => [.. Turn2("").Take(2).Select(m => m!.DeepClone())];

    private static int CachedTokens(JsonNode usage, string details = "prompt_tokens_details") =>
        usage[details]!["cached_tokens"]!.GetValue<int>();

    [Fact]
    public async Task ChatTurn2_ReportsCachedTokens_AndAnswersTheSameBytesAsWithoutTheCache()
    {
        // A first scrape starts the exporter listening to the engine's meter (counters are process-wide: compare at least).
        await _cached.Http.GetStringAsync("/metrics");
        var first = await PostAsync(_cached, "/v1/chat/completions", Chat(Turn1()));
        Assert.Equal(0, CachedTokens(first["usage"]!));
        var answer = first["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        var turn1Prompt = first["usage"]!["prompt_tokens"]!.GetValue<int>();
        Assert.True(turn1Prompt >= 2 * Chunk, $"turn 1 has {turn1Prompt} tokens");

        var cached = await PostAsync(_cached, "/v1/chat/completions", Chat(Turn2(answer)));
        var plain = await PostAsync(_plain, "/v1/chat/completions", Chat(Turn2(answer)));

        var reused = CachedTokens(cached["usage"]!);
        Assert.True(reused >= Chunk && reused % Chunk == 0 && reused <= turn1Prompt, $"cached_tokens {reused} of turn 1's {turn1Prompt}");
        Assert.Equal(0, CachedTokens(plain["usage"]!));
        Assert.Equal(plain["usage"]!["prompt_tokens"]!.GetValue<int>(), cached["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(plain["choices"]!.ToJsonString(), cached["choices"]!.ToJsonString());
        Assert.Equal(plain["system_fingerprint"]!.GetValue<string>(), cached["system_fingerprint"]!.GetValue<string>());
        Assert.NotNull(cached["choices"]![0]!["logprobs"]!["content"]);

        // Streamed, the same prompt again reuses all its whole chunks but the last token's, in the usage chunk, with the same deltas.
        var streamed = await StreamAsync(_cached, "/v1/chat/completions", Chat(Turn2(answer), stream: true));
        var streamedPlain = await StreamAsync(_plain, "/v1/chat/completions", Chat(Turn2(answer), stream: true));
        var prompt = cached["usage"]!["prompt_tokens"]!.GetValue<int>();
        Assert.Equal((prompt - 1) / Chunk * Chunk, CachedTokens(streamed[^1]["usage"]!));
        Assert.Equal(0, CachedTokens(streamedPlain[^1]["usage"]!));
        static string Deltas(List<JsonObject> events) => string.Join("\n", events.Select(e => e["choices"]!.ToJsonString()));
        Assert.Equal(Deltas(streamedPlain), Deltas(streamed));

        var metrics = await _cached.Http.GetStringAsync("/metrics");
        Assert.True(Sample(metrics, "capa_generation_prefix_cache_hits") >= 2, metrics);
        Assert.True(Sample(metrics, "capa_generation_prefix_cache_reused_tokens") >= 2L * reused);
        Assert.True(Sample(metrics, "capa_generation_prefix_cache_bytes") > 0);
        Assert.Contains("capa_generation_prefix_cache_misses", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesChainTurn2_ReportsCachedInputTokens_AndAnswersTheSameBytesAsWithoutTheCache()
    {
        JsonObject Create(string input, string? previous, bool stream = false)
        {
            var body = new JsonObject
            {
                ["model"] = ModelId,
                ["instructions"] = "You are terse. " + Words(4),
                ["input"] = input,
                ["max_output_tokens"] = 16,
                ["seed"] = 9,
                ["temperature"] = 0.9,
                ["top_logprobs"] = 2,
                ["include"] = new JsonArray("message.output_text.logprobs"),
            };
            if (previous is not null)
            {
                body["previous_response_id"] = previous;
            }

            if (stream)
            {
                body["stream"] = true;
            }

            return body;
        }

        static string Output(JsonObject response) =>
            string.Join("\n", response["output"]!.AsArray().Select(item => item!["content"]?.ToJsonString() ?? item!["type"]!.GetValue<string>()));

        var turns = new[] { Words(5), Words(6) };
        var texts = new List<string>[] { [], [] };
        var usages = new List<JsonNode>[] { [], [] };
        var servers = new[] { _cached, _plain };
        for (var s = 0; s < servers.Length; s++)
        {
            string? previous = null;
            foreach (var input in turns)
            {
                var response = await PostAsync(servers[s], "/v1/responses", Create(input, previous));
                previous = response["id"]!.GetValue<string>();
                texts[s].Add(Output(response));
                usages[s].Add(response["usage"]!);
            }
        }

        Assert.Equal(texts[1], texts[0]);
        Assert.All(usages[1], u => Assert.Equal(0, CachedTokens(u, "input_tokens_details")));
        var reused = CachedTokens(usages[0][1], "input_tokens_details");
        Assert.True(reused >= Chunk && reused % Chunk == 0 && reused <= usages[0][0]["input_tokens"]!.GetValue<int>(), $"cached input tokens {reused}");

        // Streamed, turn 3 reports its reuse in response.completed.
        var last = await PostAsync(_cached, "/v1/responses", Create(Words(7), null));
        var events = await StreamAsync(_cached, "/v1/responses", Create(Words(8), last["id"]!.GetValue<string>(), stream: true));
        var completed = events.Single(e => e["type"]!.GetValue<string>() is "response.completed" or "response.incomplete");
        Assert.True(CachedTokens(completed["response"]!["usage"]!, "input_tokens_details") >= Chunk);
    }

    [Fact]
    public async Task CacheBytes_ComeFromTheOption_ElseTheConfigFile_ElseTheDefault()
    {
        Assert.Equal(PrefixCache.DefaultCapacityBytes, CacheOf(_cached)!.CapacityBytes);
        Assert.Null(CacheOf(_plain));

        var config = Path.Combine(_root, "capa.json");
        await File.WriteAllTextAsync(config, """{ "limits": { "prefix_cache_bytes": 1048576 } }""");
        await using (var server = await StartAsync(new CapaServerOptions { ConfigFile = config, StateDirectory = Path.Combine(_root, "state-config") }))
        {
            Assert.Equal(1048576L, CacheOf(server)!.CapacityBytes);
        }

        await using (var server = await StartAsync(new CapaServerOptions { ConfigFile = config, PrefixCacheBytes = 0, StateDirectory = Path.Combine(_root, "state-option") }))
        {
            Assert.Null(CacheOf(server));
        }
    }

    private static double Sample(string text, string name) =>
        text.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{'))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Sum();
}
