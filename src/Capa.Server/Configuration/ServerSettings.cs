using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;

namespace Capa.Server.Configuration;

/// <summary>
/// The effective settings: <see cref="CapaServerOptions"/> merged with its config file and the environment.
/// Config file limits override the options' values; upstreams, aliases and API keys are combined.
/// </summary>
internal sealed record ServerSettings
{
    /// <summary>Bodies are buffered whole before validation, so the limit stays well inside one array.</summary>
    public const long MaxBodyLimit = 1L << 30;

    public required IReadOnlyList<UpstreamOptions> Upstreams { get; init; }

    public required IReadOnlyDictionary<string, string> Aliases { get; init; }

    public required IReadOnlyList<string> ApiKeys { get; init; }

    public required long MaxBodyBytes { get; init; }

    public required int MaxJsonDepth { get; init; }

    /// <summary>The largest uploaded file, in bytes (streamed to disk, never buffered whole).</summary>
    public long MaxFileBytes { get; init; } = CapaServerOptions.DefaultMaxFileBytes;

    public required int MaxConcurrentRequests { get; init; }

    public required int RequestQueueLength { get; init; }

    public required int RetryAfterSeconds { get; init; }

    /// <summary>The key/value cache budget of each local chat model (option, else config file); null: the engine's default.</summary>
    public long? KvCacheBudgetBytes { get; init; }

    /// <summary>The admission queue of each local chat model (option, else config file); null: the engine's default.</summary>
    public int? GenerationQueueLength { get; init; }

    /// <summary>The prefix cache of each local chat model in bytes, 0 for none (option, else config file); null: the engine's default.</summary>
    public long? PrefixCacheBytes { get; init; }

    public required TimeSpan UpstreamTimeout { get; init; }

    public required TimeSpan UpstreamConnectTimeout { get; init; }

    /// <summary>The accuracy level of 4-bit matmuls in local models: the option, else the config file's, else the default.</summary>
    public required Q4Accuracy Q4Accuracy { get; init; }

    /// <summary>Whether <c>/capa/v1/models</c> may pull and remove models: both the option and the config file's <c>model_management</c> must allow it.</summary>
    public bool ModelManagement { get; init; } = true;

    /// <exception cref="CapaConfigException">The options, file or environment are inconsistent.</exception>
    /// <summary>The config file's <c>speech</c> object, or null.</summary>
    public SpeechConfig? Speech { get; init; }

    /// <summary>The config file's <c>vision</c> object, or null.</summary>
    public VisionConfig? Vision { get; init; }

    /// <summary>The config file's <c>images</c> object, or null.</summary>
    public ImagesConfig? Images { get; init; }

    /// <summary>Where OpenTelemetry traces go; null when no OTLP endpoint is configured (then no tracer is registered).</summary>
    public TracingSettings? Tracing { get; init; }

    /// <summary>The bucket that holds uploaded files' bytes (the config file's <c>files.s3</c>, credentials from the environment); null for the data directory.</summary>
    public Capa.Storage.Files.S3.S3Options? FilesBucket { get; init; }

    public static ServerSettings Resolve(CapaServerOptions options)
    {
        var file = options.ConfigFile is null ? new CapaConfigFile() : CapaConfigFile.Load(options.ConfigFile);
        var env = options.GetEnvironmentVariable;
        var limits = file.Limits ?? new LimitsConfig();

        var upstreams = new List<UpstreamOptions>(options.Upstreams);
        foreach (var entry in file.Upstreams)
        {
            var key = entry.ApiKey;
            if (entry.ApiKeyEnv is not null)
            {
                key = env(entry.ApiKeyEnv);
                if (string.IsNullOrEmpty(key))
                {
                    throw new CapaConfigException(
                        $"The upstream '{entry.Name}' takes its key from the environment variable {entry.ApiKeyEnv}, which is not set.");
                }
            }

            upstreams.Add(new UpstreamOptions
            {
                Name = entry.Name,
                BaseUrl = new Uri(entry.BaseUrl, UriKind.Absolute),
                ApiKey = key,
                Models = entry.Models ?? ["*"],
                Timeout = entry.Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            });
        }

        // OPENAI_API_KEY defines the `openai` upstream unless one of that name is configured explicitly.
        var openAiKey = env("OPENAI_API_KEY");
        if (!string.IsNullOrEmpty(openAiKey) && !upstreams.Exists(u => u.Name == "openai"))
        {
            var baseUrl = env("OPENAI_BASE_URL");
            if (string.IsNullOrEmpty(baseUrl))
            {
                baseUrl = "https://api.openai.com/v1";
            }

            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CapaConfigException("OPENAI_BASE_URL must be an absolute http(s) URL.");
            }

            upstreams.Add(new UpstreamOptions { Name = "openai", BaseUrl = uri, ApiKey = openAiKey, Models = ["*"] });
        }

        var duplicate = upstreams.GroupBy(u => u.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new CapaConfigException($"The upstream name '{duplicate.Key}' is used twice.");
        }

        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (alias, target) in file.Aliases)
        {
            aliases[alias] = target;
        }

        foreach (var (alias, target) in options.Aliases)
        {
            aliases[alias] = target;
        }

        var settings = new ServerSettings
        {
            Upstreams = upstreams,
            Aliases = aliases,
            ApiKeys = options.ApiKeys.Concat(file.ApiKeys).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal).ToArray(),
            MaxBodyBytes = limits.MaxBodyBytes ?? options.MaxBodyBytes,
            MaxJsonDepth = limits.MaxJsonDepth ?? options.MaxJsonDepth,
            MaxFileBytes = limits.MaxFileBytes ?? options.MaxFileBytes,
            MaxConcurrentRequests = limits.MaxConcurrentRequests ?? options.MaxConcurrentRequests,
            RequestQueueLength = limits.QueueLength ?? options.RequestQueueLength,
            RetryAfterSeconds = options.RetryAfterSeconds,

            // Like q4_accuracy, the generation limits given as options (command-line flags) win over the file's.
            KvCacheBudgetBytes = options.KvCacheBudgetBytes ?? limits.KvCacheBytes,
            GenerationQueueLength = options.GenerationQueueLength ?? limits.GenerationQueueLength,
            PrefixCacheBytes = options.PrefixCacheBytes ?? limits.PrefixCacheBytes,
            UpstreamTimeout = limits.UpstreamTimeout is { } t ? TimeSpan.FromSeconds(t) : options.UpstreamTimeout,
            UpstreamConnectTimeout = limits.UpstreamConnectTimeout is { } c ? TimeSpan.FromSeconds(c) : options.UpstreamConnectTimeout,

            // Unlike the limits, an explicit option wins over the file: it is the command line's, given for this run.
            Q4Accuracy = options.Q4Accuracy ?? file.Q4Accuracy ?? Q4Accuracy.Default,
            Speech = file.Speech,
            Vision = file.Vision,
            Images = file.Images,
            FilesBucket = file.Files?.S3?.Resolve(env),
            ModelManagement = options.ModelManagement && file.ModelManagement != false,
            Tracing = TracingSettings.Resolve(options.OtlpEndpoint, file.Telemetry, env),
        };
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        if (MaxBodyBytes <= 0 || MaxJsonDepth <= 0 || MaxConcurrentRequests <= 0 || RequestQueueLength < 0
            || RetryAfterSeconds <= 0 || UpstreamTimeout <= TimeSpan.Zero || UpstreamConnectTimeout <= TimeSpan.Zero
            || KvCacheBudgetBytes is <= 0 || GenerationQueueLength is < 0 || PrefixCacheBytes is < 0)
        {
            throw new CapaConfigException("Server limits must be positive (the queue lengths and the prefix cache may be 0).");
        }

        if (MaxBodyBytes > MaxBodyLimit)
        {
            throw new CapaConfigException($"The body size limit may be at most {MaxBodyLimit} bytes.");
        }

        if (Upstreams.Any(u => u.Models.Count == 0))
        {
            throw new CapaConfigException("Every upstream must serve at least one model id, or \"*\".");
        }
    }
}
