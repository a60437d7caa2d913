using System.Text.Json.Serialization;

namespace Capa.Server.Configuration;

/// <summary>
/// The <c>images</c> object of the config file: the links of <c>url</c> responses, the job queue, the chat model
/// that writes dall-e-3's <c>revised_prompt</c>, and the background-removal model behind transparent backgrounds. Every key is optional; see <see cref="Images.ImageOptions"/> for the defaults.
/// </summary>
/// <example>
/// <c>{ "public_base_url": "https://capa.example.com", "trust_forwarded_headers": false, "url_lifetime_minutes": 60,
///      "max_file_bytes": 1073741824, "queue_length": 8, "revise_prompts_with": "gpt-4o-mini",
///      "background_removal_model": "briaai/RMBG-1.4" }</c>
/// </example>
public sealed record ImagesConfig
{
    /// <summary>The base of image links (scheme and host, optionally a path prefix); default: the request's own.</summary>
    [JsonPropertyName("public_base_url")]
    public string? PublicBaseUrl { get; init; }

    /// <summary>Whether <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c> set the links' base (only behind a trusted proxy).</summary>
    [JsonPropertyName("trust_forwarded_headers")]
    public bool? TrustForwardedHeaders { get; init; }

    /// <summary>Minutes an image link stays valid (OpenAI: 60).</summary>
    [JsonPropertyName("url_lifetime_minutes")]
    public double? UrlLifetimeMinutes { get; init; }

    /// <summary>Most bytes of images kept for links; the oldest go first.</summary>
    [JsonPropertyName("max_file_bytes")]
    public long? MaxFileBytes { get; init; }

    /// <summary>Image jobs that may wait; more get 429 with <c>Retry-After</c>.</summary>
    [JsonPropertyName("queue_length")]
    public int? QueueLength { get; init; }

    /// <summary>
    /// The chat model (id or alias, local or upstream) that rewrites dall-e-3 prompts in English; <c>""</c> uses prompts
    /// as given. Default: the local model behind <c>gpt-4o-mini</c>, never an upstream.
    /// </summary>
    [JsonPropertyName("revise_prompts_with")]
    public string? RevisePromptsWith { get; init; }

    /// <summary>
    /// The background-removal model (a folder or a store id, in briaai/RMBG-1.4's layout) for <c>background: "transparent"</c>;
    /// default: the first one in the store.
    /// </summary>
    [JsonPropertyName("background_removal_model")]
    public string? BackgroundRemovalModel { get; init; }

    internal void Validate(string source)
    {
        if (PublicBaseUrl is not null
            && (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)))
        {
            throw new CapaConfigException($"'{source}': images.public_base_url must be an absolute http(s) URL without a query.");
        }

        if (UrlLifetimeMinutes is <= 0 or > 7 * 24 * 60 || MaxFileBytes is <= 0 || QueueLength is < 0)
        {
            throw new CapaConfigException(
                $"'{source}': images.url_lifetime_minutes must be positive (at most a week), images.max_file_bytes positive and images.queue_length not negative.");
        }
    }

    /// <summary><paramref name="options"/> with the keys this object gives.</summary>
    internal Images.ImageOptions ApplyTo(Images.ImageOptions options) => options with
    {
        PublicBaseUrl = PublicBaseUrl?.TrimEnd('/') ?? options.PublicBaseUrl,
        TrustForwardedHeaders = TrustForwardedHeaders ?? options.TrustForwardedHeaders,
        UrlLifetime = UrlLifetimeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : options.UrlLifetime,
        MaxFileBytes = MaxFileBytes ?? options.MaxFileBytes,
        QueueLength = QueueLength ?? options.QueueLength,
        RevisePromptsWith = RevisePromptsWith ?? options.RevisePromptsWith,
        BackgroundRemovalModel = BackgroundRemovalModel ?? options.BackgroundRemovalModel,
    };
}
