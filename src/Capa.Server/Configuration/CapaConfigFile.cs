using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Capa.Server.Hosting;

namespace Capa.Server.Configuration;

/// <summary>
/// The JSON configuration file given with <c>--config</c>. Unknown properties are rejected so a typo never
/// silently disables a setting. The scalar settings (<c>limits</c>, <c>q4_accuracy</c>, <c>model_management</c>) are
/// those <see cref="CapaServerOptions"/> declares with <see cref="SettingAttribute"/>, read by
/// <see cref="SettingCatalog"/> into <see cref="Settings"/>; the structured objects are the typed properties below.
/// </summary>
/// <example>
/// <code>
/// {
///   "upstreams": [
///     { "name": "openai", "base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY",
///       "models": ["*"], "timeout": 300 }
///   ],
///   "aliases": { "gpt-4o": "onnx-community/Qwen2.5-0.5B-Instruct" },
///   "api_keys": ["sk-local-1"],
///   "limits": { "max_body_bytes": 16777216, "max_json_depth": 64, "max_concurrent_requests": 64,
///               "queue_length": 256, "upstream_timeout": 300, "upstream_connect_timeout": 10 },
///   "q4_accuracy": "file",
///   "telemetry": { "otlp_endpoint": "http://127.0.0.1:4318", "otlp_protocol": "http/protobuf", "service_name": "capa" }
/// }
/// </code>
/// </example>
public sealed record CapaConfigFile
{
    // The serializer sets every init-only property, absent ones to null, so the getters supply the defaults.
    private static readonly IReadOnlyDictionary<string, string> EmptyAliases = new Dictionary<string, string>();
    private static readonly IReadOnlyDictionary<string, object> EmptySettings = new Dictionary<string, object>();
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonTypeInfo<CapaConfigFile> TypeInfo = CreateTypeInfo();

    /// <summary>Upstream OpenAI-compatible endpoints.</summary>
    [JsonPropertyName("upstreams")]
    public IReadOnlyList<UpstreamConfig> Upstreams { get => field ?? []; init; }

    /// <summary>Requested model id to the model id that serves it.</summary>
    [JsonPropertyName("aliases")]
    public IReadOnlyDictionary<string, string> Aliases { get => field ?? EmptyAliases; init; }

    /// <summary>Accepted client API keys.</summary>
    [JsonPropertyName("api_keys")]
    public IReadOnlyList<string> ApiKeys { get => field ?? []; init; }

    /// <summary>
    /// The declared settings the file gives (<see cref="SettingCatalog.Server"/>), by key (<c>limits.kv_cache_bytes</c>),
    /// each already checked and of its property's type; keys the file leaves out (or sets to null) are absent.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, object> Settings { get => field ?? EmptySettings; init; }

    /// <summary>Text to speech: the voice table, the default language, the tools' paths.</summary>
    [JsonPropertyName("speech")]
    public SpeechConfig? Speech { get; init; }

    /// <summary>Images in chat requests: fetching (https, private networks, domains), limits, timeouts.</summary>
    [JsonPropertyName("vision")]
    public VisionConfig? Vision { get; init; }

    /// <summary>Image generation: the links of <c>url</c> responses, the job queue, the model that revises prompts.</summary>
    [JsonPropertyName("images")]
    public ImagesConfig? Images { get; init; }

    /// <summary>Uploaded files: an S3-compatible bucket for their bytes instead of the data directory.</summary>
    [JsonPropertyName("files")]
    public FilesConfig? Files { get; init; }

    /// <summary>OpenTelemetry traces: the OTLP endpoint, its protocol, the service name.</summary>
    [JsonPropertyName("telemetry")]
    public TelemetryConfig? Telemetry { get; init; }

    /// <summary>Reads and validates a configuration file.</summary>
    /// <exception cref="CapaConfigException">The file is missing, unreadable, not valid JSON, or has invalid values.</exception>
    public static CapaConfigFile Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CapaConfigException($"Cannot read the config file '{path}': {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses and validates configuration JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CapaConfigException">The JSON is invalid or has invalid values.</exception>
    public static CapaConfigFile Parse(ReadOnlySpan<byte> json, string source)
    {
        CapaConfigFile? config;
        Dictionary<string, object> settings = [];
        try
        {
            // The typed reader passes over the settings' keys (and refuses any other it does not know); the catalog reads them.
            config = JsonSerializer.Deserialize(json, TypeInfo);
            if (config is not null)
            {
                using var document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
                settings = SettingCatalog.Server.Read(document.RootElement, source);
            }
        }
        catch (JsonException e)
        {
            var where = e.Path is null ? string.Empty : $" at {e.Path}";
            throw new CapaConfigException($"The config file '{source}' is invalid{where}: {e.Message}", e);
        }

        if (config is null)
        {
            throw new CapaConfigException($"The config file '{source}' is empty (null).");
        }

        config = config with { Settings = settings };
        config.Validate(source);
        return config;
    }

    // The source-generated contract plus one write-only property per top-level key of the declared settings, which
    // accepts any JSON there: the typed reader then refuses exactly the keys that are neither typed nor settings, with
    // the serializer's own message and position in the file.
    private static JsonTypeInfo<CapaConfigFile> CreateTypeInfo()
    {
        var options = new JsonSerializerOptions(CapaConfigJsonContext.Default.Options)
        {
            TypeInfoResolver = CapaConfigJsonContext.Default.WithAddedModifier(static info =>
            {
                if (info.Type != typeof(CapaConfigFile))
                {
                    return;
                }

                foreach (var key in SettingCatalog.Server.TopLevelKeys)
                {
                    if (info.Properties.Any(p => string.Equals(p.Name, key, StringComparison.Ordinal)))
                    {
                        throw new InvalidOperationException($"The config file's '{key}' is both a typed object and a setting's key.");
                    }

                    var property = info.CreateJsonPropertyInfo(typeof(JsonElement), key);
                    property.Set = static (_, _) => { };
                    info.Properties.Add(property);
                }
            }),
        };
        return (JsonTypeInfo<CapaConfigFile>)options.GetTypeInfo(typeof(CapaConfigFile));
    }

    private void Validate(string source)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Upstreams.Count; i++)
        {
            var upstream = Upstreams[i];
            var at = $"'{source}': upstreams[{i}]";
            if (string.IsNullOrWhiteSpace(upstream.Name))
            {
                throw new CapaConfigException($"{at}.name is required.");
            }

            if (!names.Add(upstream.Name))
            {
                throw new CapaConfigException($"{at}.name '{upstream.Name}' is used twice.");
            }

            if (!Uri.TryCreate(upstream.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CapaConfigException($"{at}.base_url must be an absolute http(s) URL.");
            }

            if (upstream.ApiKey is not null && upstream.ApiKeyEnv is not null)
            {
                throw new CapaConfigException($"{at}: give api_key or api_key_env, not both.");
            }

            if (upstream.Models is { Count: 0 } || upstream.Models?.Any(string.IsNullOrWhiteSpace) == true)
            {
                throw new CapaConfigException($"{at}.models must list model ids, or \"*\" for any.");
            }

            if (upstream.Timeout is <= 0)
            {
                throw new CapaConfigException($"{at}.timeout must be a positive number of seconds.");
            }
        }

        foreach (var (alias, target) in Aliases)
        {
            if (string.IsNullOrWhiteSpace(alias) || string.IsNullOrWhiteSpace(target))
            {
                throw new CapaConfigException($"'{source}': aliases must map non-empty ids to non-empty ids.");
            }
        }

        if (ApiKeys.Any(string.IsNullOrEmpty))
        {
            throw new CapaConfigException($"'{source}': api_keys must not contain empty keys.");
        }

        Speech?.Validate(source);
        Vision?.Validate(source);
        Images?.Validate(source);
        Files?.Validate(source);
        Telemetry?.Validate(source);
    }
}

/// <summary>The <c>speech</c> object of the config file.</summary>
/// <example><c>{ "voices": { "alloy": "espeak-ng/en-gb+f3", "nova": "af_heart" }, "voice_models": ["/srv/piper"], "language": "en-us", "espeak_ng": "/usr/bin/espeak-ng", "ffmpeg": "ffmpeg" }</c></example>
public sealed record SpeechConfig
{
    /// <summary>OpenAI voice names (or any name) mapped to local voice ids; names not given keep their defaults.</summary>
    [JsonPropertyName("voices")]
    public IReadOnlyDictionary<string, string>? Voices { get; init; }

    /// <summary>Language for text in Latin letters (and other text whose script names no language). Default <c>en-us</c>.</summary>
    [JsonPropertyName("language")]
    public string? Language { get; init; }

    /// <summary>espeak-ng's path or name on PATH.</summary>
    [JsonPropertyName("espeak_ng")]
    public string? EspeakNg { get; init; }

    /// <summary>ffmpeg's path or name on PATH.</summary>
    [JsonPropertyName("ffmpeg")]
    public string? Ffmpeg { get; init; }

    /// <summary>Folders holding a Kokoro model or Piper voices, beside those of the model store.</summary>
    [JsonPropertyName("voice_models")]
    public IReadOnlyList<string>? VoiceModels { get; init; }

    internal void Validate(string source)
    {
        foreach (var (name, voice) in Voices ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(voice))
            {
                throw new CapaConfigException($"'{source}': speech.voices must map non-empty names to local voice ids.");
            }
        }

        if (Language is not null && (Language.Length is 0 or > 40 || !Language.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new CapaConfigException($"'{source}': speech.language must be an espeak-ng language id such as en-us or cmn.");
        }

        if (VoiceModels is not null && VoiceModels.Any(string.IsNullOrWhiteSpace))
        {
            throw new CapaConfigException($"'{source}': speech.voice_models must list folders.");
        }

        if (EspeakNg is { Length: 0 } || Ffmpeg is { Length: 0 })
        {
            throw new CapaConfigException($"'{source}': speech.espeak_ng and speech.ffmpeg must not be empty.");
        }
    }
}

/// <summary>One entry of <c>upstreams</c> in the config file.</summary>
public sealed record UpstreamConfig
{
    [JsonPropertyName("name")]
    public string Name { get => field ?? ""; init; }

    /// <summary>Base URL including the version segment, e.g. <c>https://api.openai.com/v1</c>.</summary>
    [JsonPropertyName("base_url")]
    public string BaseUrl { get => field ?? ""; init; }

    /// <summary>The upstream key itself (prefer <see cref="ApiKeyEnv"/>).</summary>
    [JsonPropertyName("api_key")]
    public string? ApiKey { get; init; }

    /// <summary>Name of the environment variable that holds the upstream key.</summary>
    [JsonPropertyName("api_key_env")]
    public string? ApiKeyEnv { get; init; }

    /// <summary>Model ids served, or <c>["*"]</c> (the default) for any.</summary>
    [JsonPropertyName("models")]
    public IReadOnlyList<string>? Models { get; init; }

    /// <summary>Seconds to wait for response headers and between body reads.</summary>
    [JsonPropertyName("timeout")]
    public double? Timeout { get; init; }
}

/// <summary>The configuration cannot be used; the message says what to fix.</summary>
public sealed class CapaConfigException : Exception
{
    public CapaConfigException()
    {
    }

    public CapaConfigException(string message)
        : base(message)
    {
    }

    public CapaConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(CapaConfigFile))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class CapaConfigJsonContext : JsonSerializerContext;
