using System.Text.Json;
using Capa.Engine.Text.Generation;
using System.Text.Json.Serialization;

namespace Capa.Server.Configuration;

/// <summary>
/// The JSON configuration file given with <c>--config</c>. Unknown properties are rejected so a typo never
/// silently disables a setting.
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

    /// <summary>Upstream OpenAI-compatible endpoints.</summary>
    [JsonPropertyName("upstreams")]
    public IReadOnlyList<UpstreamConfig> Upstreams { get => field ?? []; init; }

    /// <summary>Requested model id to the model id that serves it.</summary>
    [JsonPropertyName("aliases")]
    public IReadOnlyDictionary<string, string> Aliases { get => field ?? EmptyAliases; init; }

    /// <summary>Accepted client API keys.</summary>
    [JsonPropertyName("api_keys")]
    public IReadOnlyList<string> ApiKeys { get => field ?? []; init; }

    /// <summary>Server limits; each one given overrides the default.</summary>
    [JsonPropertyName("limits")]
    public LimitsConfig? Limits { get; init; }

    /// <summary>
    /// The <c>accuracy_level</c> of 4-bit matmuls in local models: <c>"file"</c> or a level from 0 to 4 (default 4);
    /// <c>capa serve --q4-accuracy</c> overrides it.
    /// </summary>
    [JsonPropertyName("q4_accuracy")]
    [JsonConverter(typeof(Q4AccuracyJsonConverter))]
    public Q4Accuracy? Q4Accuracy { get; init; }
    /// <summary>
    /// Whether clients may pull and remove models through <c>/capa/v1/models</c> (default true); false keeps the store as
    /// the server's operator left it.
    /// </summary>
    [JsonPropertyName("model_management")]
    public bool? ModelManagement { get; init; }

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
        try
        {
            config = JsonSerializer.Deserialize(json, CapaConfigJsonContext.Default.CapaConfigFile);
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

        config.Validate(source);
        return config;
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

        Limits?.Validate(source);
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

/// <summary>The <c>limits</c> object of the config file.</summary>
public sealed record LimitsConfig
{
    [JsonPropertyName("max_body_bytes")]
    public long? MaxBodyBytes { get; init; }

    [JsonPropertyName("max_json_depth")]
    public int? MaxJsonDepth { get; init; }

    /// <summary>The largest file <c>POST /v1/files</c> accepts, in bytes.</summary>
    [JsonPropertyName("max_file_bytes")]
    public long? MaxFileBytes { get; init; }

    [JsonPropertyName("max_concurrent_requests")]
    public int? MaxConcurrentRequests { get; init; }

    [JsonPropertyName("queue_length")]
    public int? QueueLength { get; init; }

    /// <summary>Bytes of key/value cache the running requests of one local chat model may reserve together.</summary>
    [JsonPropertyName("kv_cache_bytes")]
    public long? KvCacheBytes { get; init; }

    /// <summary>Requests that may wait for admission to one local chat model; beyond it, 429.</summary>
    [JsonPropertyName("generation_queue_length")]
    public int? GenerationQueueLength { get; init; }

    /// <summary>Bytes of prompt key/value cache each local chat model keeps for reuse by prompts sharing a prefix; 0 turns reuse off.</summary>
    [JsonPropertyName("prefix_cache_bytes")]
    public long? PrefixCacheBytes { get; init; }

    /// <summary>Seconds.</summary>
    [JsonPropertyName("upstream_timeout")]
    public double? UpstreamTimeout { get; init; }

    /// <summary>Seconds.</summary>
    [JsonPropertyName("upstream_connect_timeout")]
    public double? UpstreamConnectTimeout { get; init; }

    internal void Validate(string source)
    {
        if (MaxBodyBytes is <= 0 || MaxFileBytes is <= 0 || MaxJsonDepth is <= 0 or > 1024 || MaxConcurrentRequests is <= 0 || QueueLength is < 0
            || UpstreamTimeout is <= 0 || UpstreamConnectTimeout is <= 0 || KvCacheBytes is <= 0 || GenerationQueueLength is < 0
            || PrefixCacheBytes is < 0)
        {
            throw new CapaConfigException(
                $"'{source}': limits must be positive (queue_length, generation_queue_length and prefix_cache_bytes may be 0, max_json_depth at most 1024).");
        }
    }
}

/// <summary>Reads <c>q4_accuracy</c>: <c>"file"</c>, or a level from 0 to 4 as a number or a string.</summary>
internal sealed class Q4AccuracyJsonConverter : JsonConverter<Q4Accuracy?>
{
    public override bool HandleNull => true;

    public override Q4Accuracy? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
            _ => throw new JsonException($"q4_accuracy must be {Q4Accuracy.Expected}."),
        };
        if (text is null)
        {
            return null;
        }

        return Q4Accuracy.TryParse(text, out var accuracy) ? accuracy : throw new JsonException($"q4_accuracy must be {Q4Accuracy.Expected}; got '{text}'.");
    }

    public override void Write(Utf8JsonWriter writer, Q4Accuracy? value, JsonSerializerOptions options)
    {
        if (value is not { } accuracy)
        {
            writer.WriteNullValue();
        }
        else if (accuracy.Level is { } level)
        {
            writer.WriteNumberValue(level);
        }
        else
        {
            writer.WriteStringValue("file");
        }
    }
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
internal sealed partial class CapaConfigJsonContext : JsonSerializerContext;
