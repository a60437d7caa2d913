using Capa.Engine.Text.Generation;
using Capa.Server.Configuration;

namespace Capa.Server.Hosting;

/// <summary>
/// Everything the Capa server needs to start. The CLI maps its own options into this one class. A property marked
/// <see cref="SettingAttribute"/> is a setting declared in one place: its config-file key, <c>capa serve</c> flag, range,
/// precedence and help are on the attribute, its default is the initializer (see <see cref="SettingCatalog"/>).
/// </summary>
public record CapaServerOptions
{
    /// <summary>The default listening address: loopback only, so a fresh start exposes nothing.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Addresses Kestrel listens on; port 0 picks a free port (read it back with <see cref="CapaServer.GetAddresses"/>).</summary>
    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>The local model store; <see langword="null"/> when the server runs without one.</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>
    /// Whether clients may pull and remove models of the store through <c>/capa/v1/models</c> (with the API key when the
    /// server has one). Off: <c>model_management: false</c> in the config file, or this set to false; the routes are then
    /// not mapped and the playground shows the store read-only.
    /// </summary>
    [Setting("model_management", SettingKind.Boolean, Precedence = SettingPrecedence.AllMustAllow,
        Help = "Whether clients may pull and remove models through /capa/v1/models; false keeps the store as the operator left it.")]
    public bool ModelManagement { get; init; } = true;

    /// <summary>
    /// The hub that <c>POST /capa/v1/models/pull</c> downloads from; <see langword="null"/> for <c>HF_ENDPOINT</c> and
    /// <c>HF_TOKEN</c> read through <see cref="GetEnvironmentVariable"/>, as <c>capa pull</c> reads them.
    /// </summary>
    public Capa.Models.Hub.HubClientOptions? HubOptions { get; init; }

    /// <summary>
    /// Where stored responses and conversations live (a SQLite file, <c>state.db</c>); <see langword="null"/> for
    /// <c>CAPA_STATE</c>, else <c>~/.capa/state</c>. Nothing is created until the Responses or Conversations API is used.
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// An Npgsql connection string: responses and conversations go to PostgreSQL instead of SQLite, so that several
    /// servers share them. <see langword="null"/> for <c>CAPA_STATE_POSTGRES</c>, else SQLite.
    /// </summary>
    public string? StatePostgresConnectionString { get; init; }

    /// <summary>How long finished responses are kept; <see langword="null"/> keeps them until deleted.</summary>
    public TimeSpan? ResponseRetention { get; init; }

    /// <summary>A JSON configuration file (upstreams, aliases, API keys, limits); see <c>CapaConfigFile</c>.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Accepted API keys. When empty (and the config file adds none), requests need no key.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>Upstream OpenAI-compatible endpoints, in addition to those of the config file and environment.</summary>
    public IReadOnlyList<UpstreamOptions> Upstreams { get; init; } = [];

    /// <summary>Alias overrides: requested model id to the model id that serves it. Applied over the built-in aliases and the config file's.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>();

    /// <summary>Largest accepted request body, in bytes; larger bodies get 413, with or without Content-Length.</summary>
    [Setting("limits.max_body_bytes", SettingKind.Bytes, Min = 1, Max = ServerSettings.MaxBodyLimit,
        Help = "Largest accepted request body, in bytes; larger bodies get 413, with or without Content-Length.")]
    public long MaxBodyBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxFileBytes"/>: 512 MB, OpenAI's limit for one file.</summary>
    public const long DefaultMaxFileBytes = 512L * 1024 * 1024;

    /// <summary>The largest file <c>POST /v1/files</c> accepts, in bytes; larger uploads get 413 while streaming.</summary>
    [Setting("limits.max_file_bytes", SettingKind.Bytes, Min = 1,
        Help = "The largest file POST /v1/files accepts, in bytes; larger uploads get 413 while streaming.")]
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Deepest accepted JSON nesting in a request body.</summary>
    [Setting("limits.max_json_depth", SettingKind.Count, Min = 1, Max = 1024, Help = "Deepest accepted JSON nesting in a request body.")]
    public int MaxJsonDepth { get; init; } = 64;

    /// <summary>Requests served at once; more wait in the queue.</summary>
    [Setting("limits.max_concurrent_requests", SettingKind.Count, Min = 1, Help = "Requests served at once; more wait in the queue.")]
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>Requests that may wait for a slot; beyond that the server answers 429.</summary>
    [Setting("limits.queue_length", SettingKind.Count, Min = 0, Help = "Requests that may wait for a slot; beyond that the server answers 429.")]
    public int RequestQueueLength { get; init; } = 256;

    /// <summary>
    /// Bytes of key/value cache the running requests of one local chat model may reserve together (<c>--kv-cache-bytes</c>);
    /// requests beyond it wait for admission. Null: the config file's <c>limits.kv_cache_bytes</c>, else the engine's
    /// default (<see cref="Capa.Engine.Text.Generation.GenerationSchedulerOptions.DefaultKvCacheBudgetBytes"/>).
    /// </summary>
    [Setting("limits.kv_cache_bytes", SettingKind.Bytes, Min = 1, Flag = "--kv-cache-bytes", Precedence = SettingPrecedence.OptionsOverFile,
        Help = "Key/value cache the running requests of one chat model may reserve together, in bytes or with a K, M or G "
            + "suffix (binary: 4G = 4 GiB; default 4G). A request reserves choices × (prompt + max_tokens) positions; "
            + "requests beyond the budget wait.")]
    public long? KvCacheBudgetBytes { get; init; }

    /// <summary>
    /// Requests that may wait for admission to one local chat model (<c>--generation-queue</c>); one more is answered 429
    /// with <c>Retry-After</c>. Null: the config file's <c>limits.generation_queue_length</c>, else the engine's default (64).
    /// </summary>
    [Setting("limits.generation_queue_length", SettingKind.Count, Min = 0, Flag = "--generation-queue", Precedence = SettingPrecedence.OptionsOverFile,
        Help = "Requests that may wait for admission to one chat model (default 64); one more is answered 429 with Retry-After.")]
    public int? GenerationQueueLength { get; init; }

    /// <summary>
    /// Bytes of prompt key/value cache each local chat model keeps for reuse by prompts sharing a prefix
    /// (<c>--prefix-cache-bytes</c>); 0 turns reuse off. Null: the config file's <c>limits.prefix_cache_bytes</c>, else the
    /// engine's default (<see cref="Capa.Engine.Text.Generation.PrefixCache.DefaultCapacityBytes"/>).
    /// </summary>
    [Setting("limits.prefix_cache_bytes", SettingKind.Bytes, Min = 0, Flag = "--prefix-cache-bytes", Precedence = SettingPrecedence.OptionsOverFile,
        Help = "Prompt key/value cache one chat model keeps for reuse by prompts that start the same way (multi-turn chats, "
            + "response chains, shared system prompts), in bytes or with a K, M or G suffix (default 1G; 0 turns it off). "
            + "Output is the same with or without it.")]
    public long? PrefixCacheBytes { get; init; }

    /// <summary>
    /// The most memory vector stores' chunk vectors kept between searches may take, in bytes (least recently searched
    /// stores dropped first; 0 reads them from the database per search): the config file's
    /// <c>limits.vector_cache_bytes</c> or <c>CAPA_VECTOR_CACHE_BYTES</c> over this, whose default is
    /// <see cref="Capa.Storage.ResponseStoreOptions.DefaultVectorCacheBytes"/>.
    /// </summary>
    [Setting("limits.vector_cache_bytes", SettingKind.Bytes, Min = 0, EnvironmentVariable = "CAPA_VECTOR_CACHE_BYTES",
        Help = "Memory for vector stores' chunk vectors kept between searches, in bytes (default 512 MiB; 0 reads them from the database per search).")]
    public long VectorCacheBytes { get; init; } = Capa.Storage.ResponseStoreOptions.DefaultVectorCacheBytes;

    /// <summary>Seconds sent in <c>Retry-After</c> with a 429.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Default time an upstream may take to send its response headers, and the longest silence allowed between two reads of its body.</summary>
    [Setting("limits.upstream_timeout", SettingKind.Seconds,
        Help = "Seconds an upstream may take to send its response headers, and the longest silence between two reads of its body.")]
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed to open a connection to an upstream.</summary>
    [Setting("limits.upstream_connect_timeout", SettingKind.Seconds, Help = "Seconds allowed to open a connection to an upstream.")]
    public TimeSpan UpstreamConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The <c>accuracy_level</c> of 4-bit matmuls in local models (<c>--q4-accuracy</c>); null: the config file's
    /// <c>q4_accuracy</c>, else <see cref="Q4Accuracy.Default"/> (4, int8 compute). Part of the fingerprint.
    /// </summary>
    [Setting("q4_accuracy", SettingKind.Q4Accuracy, Flag = "--q4-accuracy", Precedence = SettingPrecedence.OptionsOverFile, Default = "4",
        Help = "accuracy_level of 4-bit (MatMulNBits) matmuls: 4 computes with int8 activations (the default, faster), "
            + "'file' keeps the model file's levels (usually 0, fp32 compute: the numbers transformers.js computes). "
            + "Changes system_fingerprint.")]
    public Q4Accuracy? Q4Accuracy { get; init; }

    /// <summary>
    /// The OpenTelemetry collector that receives traces (<c>--otlp-endpoint</c>), a base URL as in
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>. Null: the config file's <c>telemetry.otlp_endpoint</c>, else that variable, else
    /// no tracing at all (no tracer, no listener).
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>
    /// Reads environment variables (<c>OPENAI_API_KEY</c>, <c>OPENAI_BASE_URL</c>, <c>api_key_env</c> of upstreams,
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> and the other <c>OTEL_</c> variables Capa reads).
    /// Tests replace it to keep the machine's environment out.
    /// </summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
}
