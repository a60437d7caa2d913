using System.Net;
using Capa.Media.Images;
using Capa.Server.Configuration;

namespace Capa.Server.Vision;

/// <summary>
/// How the images of chat requests are fetched and decoded. The defaults are safe for a server reachable from
/// untrusted clients: only <c>https:</c> URLs on public addresses are fetched, within byte, pixel, count and time
/// limits.
/// </summary>
public sealed record VisionInputOptions
{
    /// <summary>The default byte cap per image: 20 MiB.</summary>
    public const long DefaultMaxImageBytes = 20L << 20;

    /// <summary>The default byte cap for all the images of one request: 50 MiB (OpenAI's documented request limit).</summary>
    public const long DefaultMaxRequestImageBytes = 50L << 20;

    /// <summary>
    /// The default number of images per request: 16. A local vision model spends about a thousand prompt tokens on one
    /// tiled image, so 16 already fill a 16k context; OpenAI's own limit (500) is for its much larger models.
    /// </summary>
    public const int DefaultMaxImages = 16;

    /// <summary>Redirects followed per download, each one re-checked like the first URL.</summary>
    public const int MaxRedirects = 5;

    /// <summary>Whether http(s) image URLs are downloaded; when false only <c>data:</c> URLs are accepted.</summary>
    public bool FetchUrls { get; init; } = true;

    /// <summary>Whether plain <c>http:</c> URLs are fetched (never by default: the bytes could be altered in transit).</summary>
    public bool AllowHttp { get; init; }

    /// <summary>
    /// Whether URLs may reach loopback, private, link-local, CGNAT and unique-local addresses. Cloud metadata,
    /// unspecified, multicast and broadcast addresses are refused even then.
    /// </summary>
    public bool AllowPrivateNetworks { get; init; }

    /// <summary>When not empty, the only hosts images are fetched from (checked on every redirect too).</summary>
    public DomainAllowList AllowedDomains { get; init; } = DomainAllowList.Any;

    /// <summary>The most <c>image_url</c> parts one request may hold.</summary>
    public int MaxImages { get; init; } = DefaultMaxImages;

    /// <summary>The largest encoded image in bytes, enforced while streaming the download.</summary>
    public long MaxImageBytes { get; init; } = DefaultMaxImageBytes;

    /// <summary>The most encoded image bytes of one request, all images together.</summary>
    public long MaxRequestImageBytes { get; init; } = DefaultMaxRequestImageBytes;

    /// <summary>The most pixels an image may declare in its header; larger ones are refused before decoding.</summary>
    public long MaxImagePixels { get; init; } = ImageDecoder.DefaultMaxPixels;

    /// <summary>The time allowed to connect to an image host.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The time allowed for all the downloads of one request together (images are fetched one after another).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Test hook: resolves a host name instead of DNS (to make a name resolve to a chosen address).</summary>
    internal Func<string, CancellationToken, ValueTask<IPAddress[]>>? ResolveHost { get; init; }

    /// <summary>
    /// Test hook: the endpoint a socket really connects to once an address passed the checks (to serve an address
    /// the checks call public from a local test server).
    /// </summary>
    internal Func<IPEndPoint, IPEndPoint>? ConnectEndpoint { get; init; }

    /// <summary>The options with the config file's <c>vision</c> object applied.</summary>
    public static VisionInputOptions From(VisionConfig? config)
    {
        var options = new VisionInputOptions();
        if (config is null)
        {
            return options;
        }

        return options with
        {
            FetchUrls = config.FetchUrls ?? options.FetchUrls,
            AllowHttp = config.AllowHttp ?? options.AllowHttp,
            AllowPrivateNetworks = config.AllowPrivateNetworks ?? options.AllowPrivateNetworks,
            AllowedDomains = config.AllowedDomains is { } domains ? new DomainAllowList(domains) : options.AllowedDomains,
            MaxImages = config.MaxImages ?? options.MaxImages,
            MaxImageBytes = config.MaxImageBytes ?? options.MaxImageBytes,
            MaxRequestImageBytes = config.MaxRequestImageBytes ?? options.MaxRequestImageBytes,
            MaxImagePixels = config.MaxImagePixels ?? options.MaxImagePixels,
            ConnectTimeout = config.ConnectTimeout is { } connect ? TimeSpan.FromSeconds(connect) : options.ConnectTimeout,
            Timeout = config.Timeout is { } total ? TimeSpan.FromSeconds(total) : options.Timeout,
        };
    }
}
