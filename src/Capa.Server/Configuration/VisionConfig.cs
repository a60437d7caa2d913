using System.Text.Json.Serialization;

namespace Capa.Server.Configuration;

/// <summary>
/// The <c>vision</c> object of the config file: how images in chat requests are fetched and decoded. Every key is
/// optional; see <see cref="Vision.VisionInputOptions"/> for the defaults.
/// </summary>
/// <example>
/// <c>{ "fetch_urls": true, "allow_http": false, "allow_private_networks": false, "allowed_domains": ["example.com", "*.githubusercontent.com"],
///      "max_images": 16, "max_image_bytes": 20971520, "max_request_image_bytes": 52428800, "max_image_pixels": 33177600,
///      "connect_timeout": 5, "timeout": 30, "max_tiles": 16 }</c>
/// </example>
public sealed record VisionConfig
{
    /// <summary>Whether <c>http(s):</c> image URLs are downloaded at all; when false only <c>data:</c> URLs are accepted.</summary>
    [JsonPropertyName("fetch_urls")]
    public bool? FetchUrls { get; init; }

    /// <summary>Whether plain <c>http:</c> URLs (and redirects to them) are fetched; by default only <c>https:</c>.</summary>
    [JsonPropertyName("allow_http")]
    public bool? AllowHttp { get; init; }

    /// <summary>
    /// Whether URLs may reach loopback, private, link-local, CGNAT and unique-local addresses (for a trusted LAN);
    /// cloud metadata, unspecified and multicast addresses stay refused.
    /// </summary>
    [JsonPropertyName("allow_private_networks")]
    public bool? AllowPrivateNetworks { get; init; }

    /// <summary>When given, the only hosts images are fetched from: <c>example.com</c> exactly, <c>*.example.com</c> for its subdomains.</summary>
    [JsonPropertyName("allowed_domains")]
    public IReadOnlyList<string>? AllowedDomains { get; init; }

    /// <summary>The most <c>image_url</c> parts one request may hold.</summary>
    [JsonPropertyName("max_images")]
    public int? MaxImages { get; init; }

    /// <summary>The largest encoded image, in bytes (downloaded or inline).</summary>
    [JsonPropertyName("max_image_bytes")]
    public long? MaxImageBytes { get; init; }

    /// <summary>The most encoded image bytes of one request, all images together.</summary>
    [JsonPropertyName("max_request_image_bytes")]
    public long? MaxRequestImageBytes { get; init; }

    /// <summary>The most pixels (width × height, from the header) an image may have.</summary>
    [JsonPropertyName("max_image_pixels")]
    public long? MaxImagePixels { get; init; }

    /// <summary>Seconds to wait for a connection to an image host.</summary>
    [JsonPropertyName("connect_timeout")]
    public double? ConnectTimeout { get; init; }

    /// <summary>Seconds for all the downloads of one request together.</summary>
    [JsonPropertyName("timeout")]
    public double? Timeout { get; init; }

    /// <summary>
    /// The most local tiles a local vision model cuts one image into for <c>detail</c> high or auto (the global image
    /// not counted); fewer tiles mean fewer prompt tokens and faster answers. Default: the model's processor config.
    /// </summary>
    [JsonPropertyName("max_tiles")]
    public int? MaxTiles { get; init; }

    /// <summary>
    /// The most pixels a local Qwen2-VL model resizes one image to (image tokens = pixels / 784), below its processor
    /// config's <c>max_pixels</c> (whose default allows about 16k tokens per image). Default: the processor config's.
    /// </summary>
    [JsonPropertyName("max_pixels")]
    public long? MaxPixels { get; init; }

    internal void Validate(string source)
    {
        if (MaxImages is <= 0 || MaxImageBytes is <= 0 || MaxRequestImageBytes is <= 0 || MaxImagePixels is <= 0
            || ConnectTimeout is <= 0 || Timeout is <= 0 || MaxTiles is < 0 || MaxPixels is <= 0)
        {
            throw new CapaConfigException($"'{source}': vision limits and timeouts must be positive.");
        }

        foreach (var domain in AllowedDomains ?? [])
        {
            if (!Vision.DomainAllowList.IsValidEntry(domain))
            {
                throw new CapaConfigException(
                    $"'{source}': vision.allowed_domains entries must be host names such as example.com or *.example.com; got '{domain}'.");
            }
        }
    }
}
