using Capa.Server.Hosting;

namespace Capa.Server.Configuration;

/// <summary>
/// The effective settings: <see cref="CapaServerOptions"/> merged with its config file and the environment. The
/// declared settings (<see cref="SettingAttribute"/>) are resolved by <see cref="SettingCatalog"/>, each by its own
/// precedence; upstreams, aliases and API keys are combined; the areas' objects of the file are carried as read.
/// </summary>
internal sealed record ServerSettings : CapaServerOptions
{
    /// <summary>Bodies are buffered whole before validation, so the limit stays well inside one array.</summary>
    public const long MaxBodyLimit = 1L << 30;

    private ServerSettings(CapaServerOptions options)
        : base(options)
    {
    }

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

    /// <exception cref="CapaConfigException">The options, file or environment are inconsistent.</exception>
    public static ServerSettings Resolve(CapaServerOptions options)
    {
        var file = options.ConfigFile is null ? new CapaConfigFile() : CapaConfigFile.Load(options.ConfigFile);
        var env = options.GetEnvironmentVariable;

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

        var settings = new ServerSettings(options)
        {
            Upstreams = upstreams,
            Aliases = aliases,
            ApiKeys = options.ApiKeys.Concat(file.ApiKeys).Where(k => k.Length > 0).Distinct(StringComparer.Ordinal).ToArray(),
            Speech = file.Speech,
            Vision = file.Vision,
            Images = file.Images,
            FilesBucket = file.Files?.S3?.Resolve(env),
            Tracing = TracingSettings.Resolve(options.OtlpEndpoint, file.Telemetry, env),
        };

        // Every declared setting (limits, q4_accuracy, model_management), each by its own precedence and range.
        SettingCatalog.Server.Resolve(options, settings, file.Settings, env);
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        if (RetryAfterSeconds <= 0)
        {
            throw new CapaConfigException("Retry-After must be a positive number of seconds.");
        }

        if (Upstreams.Any(u => u.Models.Count == 0))
        {
            throw new CapaConfigException("Every upstream must serve at least one model id, or \"*\".");
        }
    }
}
