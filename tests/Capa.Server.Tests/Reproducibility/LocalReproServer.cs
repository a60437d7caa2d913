using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text;
using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>
/// The real server (Kestrel on 127.0.0.1, port 0) with a <see cref="LocalChatProvider"/> over a models folder, driven by
/// the official OpenAI SDK. The scheduler admits 8 requests at once so that concurrent requests really run together.
/// </summary>
internal sealed class LocalReproServer : IAsyncDisposable
{
    public const string SeedHeader = "x-capa-seed";

    private readonly LocalChatProvider _provider;
    private readonly CapaTestServer _server;
    private readonly string? _ownCache;

    private LocalReproServer(LocalChatProvider provider, CapaTestServer server, string? ownCache)
    {
        _provider = provider;
        _server = server;
        _ownCache = ownCache;
    }

    /// <summary>The root URL.</summary>
    public string BaseUrl => _server.BaseUrl;

    /// <summary>A raw client, for what the SDK cannot send (n, logprobs bytes compared verbatim).</summary>
    public HttpClient Http => _server.Http;

    /// <summary>The provider (to read what the engine loaded).</summary>
    public LocalChatProvider Provider => _provider;

    /// <summary>
    /// Starts a server over <paramref name="modelsDirectory"/>; capa-tiny is created in <paramref name="cacheDirectory"/>
    /// when the store holds no chat model. Without a cache folder the server uses one of its own, deleted with it.
    /// </summary>
    public static async Task<LocalReproServer> StartAsync(string modelsDirectory, ModelVariant? variant = null, string? cacheDirectory = null)
    {
        var ownCache = cacheDirectory is null ? Directory.CreateTempSubdirectory("capa-repro-cache-").FullName : null;
        var provider = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = modelsDirectory,
            CacheDirectory = cacheDirectory ?? ownCache,
            ModelListCacheDuration = TimeSpan.Zero,
            Model = new LocalChatModelOptions
            {
                Variant = variant,
                Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
                Scheduler = new GenerationSchedulerOptions { MaxConcurrentRequests = 8, MaxConcurrentSequences = 16, MaxQueuedRequests = 64 },
            },
        });
        try
        {
            provider.PrepareStore();
            var server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddChatProvider(provider));
            return new LocalReproServer(provider, server, ownCache);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>An SDK chat client for <paramref name="model"/>; <paramref name="capture"/> sees every raw response.</summary>
    public ChatClient Chat(string model, SeedHeaderCapture? capture = null)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(BaseUrl + "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        };
        if (capture is not null)
        {
            options.AddPolicy(capture, PipelinePosition.PerCall);
        }

        return new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient(model);
    }

    /// <summary>Sends one request through the SDK, streamed or not, and reduces it to what must reproduce.</summary>
    public static async Task<ChatOutcome> RunAsync(ChatClient chat, IReadOnlyList<ChatMessage> messages, ChatCompletionOptions options, bool stream, SeedHeaderCapture? capture = null)
    {
        if (!stream)
        {
            ClientResult<ChatCompletion> result = await chat.CompleteChatAsync(messages, options);
            var completion = result.Value;
            var seed = result.GetRawResponse().Headers.TryGetValue(SeedHeader, out var value) ? value : null;
            return new ChatOutcome(
                completion.Content.Count == 0 ? string.Empty : string.Concat(completion.Content.Select(p => p.Text)),
                completion.FinishReason.ToString(),
                Usage(completion.Usage),
                [completion.SystemFingerprint],
                seed);
        }

        var content = new StringBuilder();
        string? finish = null;
        string? usage = null;
        var fingerprints = new List<string?>();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            fingerprints.Add(update.SystemFingerprint);
            foreach (var part in update.ContentUpdate)
            {
                content.Append(part.Text);
            }

            if (update.FinishReason is { } reason)
            {
                Assert.Null(finish);
                finish = reason.ToString();
            }

            if (update.Usage is { } u)
            {
                Assert.Null(usage);
                usage = Usage(u);
            }
        }

        return new ChatOutcome(content.ToString(), finish, usage, fingerprints, capture?.Last);
    }

    private static string Usage(ChatTokenUsage usage) =>
        string.Create(CultureInfo.InvariantCulture, $"{usage.InputTokenCount}/{usage.OutputTokenCount}/{usage.TotalTokenCount}");

    /// <summary>Seeded options (the SDK marks <c>seed</c> experimental).</summary>
    public static ChatCompletionOptions Options(int maxTokens, float temperature, long? seed)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = temperature };
#pragma warning disable OPENAI001
        options.Seed = seed;
#pragma warning restore OPENAI001
        return options;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _provider.Dispose();
        if (_ownCache is not null)
        {
            Directory.Delete(_ownCache, recursive: true);
        }
    }
}

/// <summary>What must be byte-identical between two runs of one seeded request, plus the fingerprints and seed seen.</summary>
/// <param name="Content">The message content (streamed deltas concatenated).</param>
/// <param name="FinishReason">The finish reason.</param>
/// <param name="Usage">prompt/completion/total tokens.</param>
/// <param name="Fingerprints">The <c>system_fingerprint</c> of the response, or of every stream chunk.</param>
/// <param name="SeedHeader">The <c>x-capa-seed</c> header.</param>
internal sealed record ChatOutcome(string Content, string? FinishReason, string? Usage, IReadOnlyList<string?> Fingerprints, string? SeedHeader)
{
    /// <summary>Content, finish reason and usage: what the seed guarantees.</summary>
    public string Output => Content + "\u0001" + FinishReason + "\u0001" + Usage;

    /// <summary>The seed from the header, parsed.</summary>
    public long Seed => long.Parse(SeedHeader ?? throw new InvalidOperationException("The response has no x-capa-seed header."), NumberStyles.None, CultureInfo.InvariantCulture);
}

/// <summary>Records the <c>x-capa-seed</c> header of the latest response (the SDK hides the headers of a stream).</summary>
internal sealed class SeedHeaderCapture : PipelinePolicy
{
    private string? _last;

    /// <summary>The header of the latest response, null when it had none.</summary>
    public string? Last => Volatile.Read(ref _last);

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        ProcessNext(message, pipeline, currentIndex);
        Capture(message);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        Capture(message);
    }

    private void Capture(PipelineMessage message) =>
        Volatile.Write(ref _last, message.Response is { } r && r.Headers.TryGetValue(LocalReproServer.SeedHeader, out var v) ? v : null);
}

/// <summary>A temporary models folder, deleted at the end.</summary>
internal sealed class TempModels : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "capa-repro-" + Guid.NewGuid().ToString("N"));

    /// <summary>Capa's cache for servers over <see cref="Path"/> (capa-tiny, digests), kept across their restarts.</summary>
    public string CachePath => Path + ".cache";

    public void Dispose()
    {
        foreach (var directory in new[] { Path, CachePath })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
