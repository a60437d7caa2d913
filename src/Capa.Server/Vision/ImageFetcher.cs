using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Vision;

/// <summary>Why a download gave no image bytes.</summary>
internal enum FetchFailure
{
    None,

    /// <summary>Not an absolute URL with a host.</summary>
    InvalidUrl,

    /// <summary>The configuration turns fetching off.</summary>
    FetchingDisabled,

    /// <summary>Not https (or http where allowed).</summary>
    SchemeNotAllowed,

    /// <summary>The host is not on the allow-list.</summary>
    DomainNotAllowed,

    /// <summary>The host is, or resolves to, an address the policy refuses.</summary>
    AddressNotAllowed,

    /// <summary>More than <see cref="VisionInputOptions.MaxRedirects"/> redirects, or a redirect without a location.</summary>
    TooManyRedirects,

    /// <summary>The server answered with an error status.</summary>
    HttpStatus,

    /// <summary>The host did not resolve, refused the connection, failed TLS, or closed the connection early.</summary>
    Network,

    /// <summary>The connection or the download took too long.</summary>
    Timeout,

    /// <summary>The body exceeded the byte cap; reading stopped there.</summary>
    TooLarge,
}

/// <summary>The bytes of a download, or why there are none; <see cref="Detail"/> is for logs.</summary>
internal sealed record FetchResult(byte[]? Bytes, FetchFailure Failure, string Detail)
{
    /// <summary>The media type the server declared (<c>Content-Type</c> without parameters), or null.</summary>
    public string? MediaType { get; init; }

    /// <summary>The URL the bytes came from, after redirects.</summary>
    public Uri? FinalUrl { get; init; }

    public static FetchResult Fail(FetchFailure failure, string detail) => new(null, failure, detail);
}

/// <summary>
/// Downloads image URLs without letting a client reach what it should not (SSRF). Every URL, the first and each
/// redirect target, must be https (or http where allowed) and pass the domain allow-list. The host is resolved once,
/// inside the connection callback, and every address it resolves to must pass <see cref="NetworkAddressPolicy"/>;
/// the socket then connects to that validated address, so no second lookup can substitute another (DNS
/// rebinding), while TLS still authenticates the URL's host name. No proxy is used (it would connect on our behalf,
/// past the checks). Redirects are followed by hand, at most <see cref="VisionInputOptions.MaxRedirects"/>, and the
/// body is read against a byte cap, cut as soon as it is exceeded.
/// </summary>
internal sealed class ImageFetcher : IDisposable
{
    private const int ChunkSize = 64 * 1024;

    private readonly VisionInputOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _client;

    /// <param name="options">The limits and the network policy.</param>
    /// <param name="logger">Where refusals and failures are logged.</param>
    /// <param name="accept">The media types asked for (<c>Accept</c>): images by default; documents for file inputs.</param>
    public ImageFetcher(VisionInputOptions options, ILogger logger, string accept = "image/*")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 64,

            // A body cut at the cap is not drained (read on to keep the connection for reuse): it is closed.
            MaxResponseDrainSize = 0,
            ResponseDrainTimeout = TimeSpan.Zero,
            ConnectCallback = ConnectAsync,
        };

        // The caller's deadline bounds each download, so the client's own timeout is off.
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Capa", "1.0"));
        _client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
    }

    /// <summary>
    /// Downloads <paramref name="url"/> (following redirects) into memory, at most <paramref name="maxBytes"/> bytes.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<FetchResult> FetchAsync(Uri url, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var current = url;
        for (var redirects = 0; ; redirects++)
        {
            if (CheckUrl(current) is { } refused)
            {
                return refused;
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return Failed(current, e);
            }

            using (response)
            {
                if (IsRedirect(response.StatusCode))
                {
                    if (redirects == VisionInputOptions.MaxRedirects)
                    {
                        return FetchResult.Fail(FetchFailure.TooManyRedirects, $"more than {VisionInputOptions.MaxRedirects} redirects");
                    }

                    if (response.Headers.Location is not { } location)
                    {
                        return FetchResult.Fail(FetchFailure.TooManyRedirects, $"a {(int)response.StatusCode} redirect without a location");
                    }

                    current = location.IsAbsoluteUri ? location : new Uri(current, location);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    return FetchResult.Fail(FetchFailure.HttpStatus, $"HTTP {(int)response.StatusCode} from {current.IdnHost}");
                }

                if (response.Content.Headers.ContentLength is { } length && length > maxBytes)
                {
                    return FetchResult.Fail(FetchFailure.TooLarge, $"Content-Length {length} is over {maxBytes}");
                }

                try
                {
                    var result = await ReadBodyAsync(response, maxBytes, cancellationToken).ConfigureAwait(false);
                    return result with { MediaType = response.Content.Headers.ContentType?.MediaType, FinalUrl = current };
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    return Failed(current, e);
                }
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static async Task<FetchResult> ReadBodyAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            var chunk = new byte[ChunkSize];
            while (true)
            {
                var read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return new FetchResult(body.ToArray(), FetchFailure.None, "");
                }

                if (body.Length + read > maxBytes)
                {
                    // Disposing the response without reading further aborts the connection: the rest is never read.
                    return FetchResult.Fail(FetchFailure.TooLarge, $"the body is over {maxBytes} bytes");
                }

                body.Write(chunk, 0, read);
            }
        }
    }

    private FetchResult Failed(Uri url, Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is AddressRefusedException refused)
            {
                return FetchResult.Fail(FetchFailure.AddressNotAllowed, refused.Message);
            }

            if (inner is TimeoutException or OperationCanceledException)
            {
                // Not the caller's token (that case is rethrown): the handler's connect timeout.
                return FetchResult.Fail(FetchFailure.Timeout, $"connecting to {url.IdnHost} timed out");
            }
        }

        VisionLog.DownloadFailed(_logger, url.IdnHost, e.GetType().Name, e.Message);
        return FetchResult.Fail(FetchFailure.Network, $"{e.GetType().Name}: {e.Message}");
    }

    /// <summary>The refusal for a URL the options do not let us fetch, before any connection is made.</summary>
    private FetchResult? CheckUrl(Uri url)
    {
        if (!_options.FetchUrls)
        {
            return FetchResult.Fail(FetchFailure.FetchingDisabled, "fetching image URLs is turned off");
        }

        if (!url.IsAbsoluteUri || url.IdnHost.Length == 0)
        {
            return FetchResult.Fail(FetchFailure.InvalidUrl, "not an absolute URL with a host");
        }

        if (url.Scheme != Uri.UriSchemeHttps && !(url.Scheme == Uri.UriSchemeHttp && _options.AllowHttp))
        {
            return FetchResult.Fail(FetchFailure.SchemeNotAllowed, $"the scheme {url.Scheme}: is not fetched");
        }

        if (!_options.AllowedDomains.Allows(url.IdnHost))
        {
            return FetchResult.Fail(FetchFailure.DomainNotAllowed, $"{url.IdnHost} is not an allowed domain");
        }

        // An address written in the URL is judged here already; names are judged once resolved, at connect time.
        if (TryParseLiteral(url.IdnHost, out var literal) && !NetworkAddressPolicy.IsAllowed(literal, _options.AllowPrivateNetworks))
        {
            return FetchResult.Fail(FetchFailure.AddressNotAllowed, $"{literal} is a {NetworkAddressPolicy.Classify(literal).ToString().ToLowerInvariant()} address");
        }

        return null;
    }

    private static bool TryParseLiteral(string host, out IPAddress address)
    {
        var bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out var parsed) && (parsed.AddressFamily == AddressFamily.InterNetworkV6 || bare.Count(c => c == '.') == 3))
        {
            address = parsed;
            return true;
        }

        address = IPAddress.None;
        return false;
    }

    /// <summary>
    /// Resolves the host (the only lookup), refuses it if any of its addresses is not allowed, and connects to a
    /// validated address.
    /// </summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses;
        if (TryParseLiteral(host, out var literal))
        {
            addresses = [literal];
        }
        else if (IPAddress.TryParse(host, out _))
        {
            // Shorthand numeric forms (127.1, 2130706433) that Uri did not normalise: refused rather than guessed at.
            throw new AddressRefusedException($"the host {host} is an abbreviated numeric address");
        }
        else
        {
            addresses = _options.ResolveHost is { } resolve
                ? await resolve(host, cancellationToken).ConfigureAwait(false)
                : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }

        if (addresses.Length == 0)
        {
            throw new HttpRequestException($"{host} has no address");
        }

        // All of them, not just the first: a name with one public and one private address could otherwise be
        // steered to the private one by a failed first connection.
        foreach (var address in addresses)
        {
            if (!NetworkAddressPolicy.IsAllowed(address, _options.AllowPrivateNetworks))
            {
                VisionLog.AddressRefused(_logger, host, address.ToString(), NetworkAddressPolicy.Classify(address).ToString());
                throw new AddressRefusedException($"{host} resolves to {address}, a {NetworkAddressPolicy.Classify(address).ToString().ToLowerInvariant()} address");
            }
        }

        Exception? last = null;
        foreach (var address in addresses)
        {
            var endpoint = new IPEndPoint(NetworkAddressPolicy.ForConnect(address), context.DnsEndPoint.Port);
            endpoint = _options.ConnectEndpoint?.Invoke(endpoint) ?? endpoint;
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last!;
    }
}

/// <summary>A connection refused by <see cref="NetworkAddressPolicy"/>, before any packet is sent.</summary>
internal sealed class AddressRefusedException(string message) : IOException(message);
