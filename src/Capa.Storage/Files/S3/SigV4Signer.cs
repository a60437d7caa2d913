using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Capa.Storage.Files.S3;

/// <summary>
/// AWS Signature Version 4 (the request signing every S3-compatible store accepts: AWS S3, MinIO, Cloudflare R2, Ceph,
/// Backblaze B2, GCS in interoperability mode). Builds the canonical request, the string to sign and the
/// <c>Authorization</c> header, as AWS documents them.
/// </summary>
internal sealed class SigV4Signer(string accessKeyId, string secretAccessKey, string region, string service, string? sessionToken = null)
{
    /// <summary>The payload hash of an empty body.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Signs <paramref name="request"/> in place: adds <c>x-amz-date</c>, <c>x-amz-content-sha256</c> (for S3),
    /// <c>x-amz-security-token</c> when there is a session token, and <c>Authorization</c>. The request's URI must be
    /// absolute and already encoded as sent; every header set before the call (and <c>Host</c>) is signed.
    /// </summary>
    public void Sign(HttpRequestMessage request, string payloadHash, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        Uri uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        request.Headers.Remove("x-amz-date");
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        if (service == "s3")
        {
            request.Headers.Remove("x-amz-content-sha256");
            request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        }

        if (sessionToken is not null)
        {
            request.Headers.Remove("x-amz-security-token");
            request.Headers.TryAddWithoutValidation("x-amz-security-token", sessionToken);
        }

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}",
        };
        foreach (var (name, values) in request.Headers)
        {
            if (!name.Equals("Authorization", StringComparison.OrdinalIgnoreCase) && !name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                headers[name.ToLowerInvariant()] = Normalize(string.Join(",", values));
            }
        }

        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers)
            {
                headers[name.ToLowerInvariant()] = Normalize(string.Join(",", values));
            }
        }

        string authorization = Authorization(request.Method.Method, uri.AbsolutePath, uri.Query.TrimStart('?'), headers, payloadHash, now);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
    }

    /// <summary>The <c>Authorization</c> header value for a request with these parts (all headers given are signed).</summary>
    internal string Authorization(string method, string encodedPath, string encodedQuery, IReadOnlyDictionary<string, string> headers, string payloadHash, DateTimeOffset now)
    {
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string date = amzDate[..8];
        string signedHeaders = string.Join(';', headers.Keys.OrderBy(k => k, StringComparer.Ordinal));
        var canonical = new StringBuilder()
            .Append(method).Append('\n')
            .Append(encodedPath.Length == 0 ? "/" : encodedPath).Append('\n')
            .Append(CanonicalQuery(encodedQuery)).Append('\n');
        foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        string scope = $"{date}/{region}/{service}/aws4_request";
        string stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))}";
        byte[] key = SigningKey(date);
        string signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return $"{Algorithm} Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    /// <summary>The key of one day, region and service.</summary>
    internal byte[] SigningKey(string date)
    {
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper case).</summary>
    public static string Encode(string value, bool keepSlashes = false)
    {
        var builder = new StringBuilder(value.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (keepSlashes && c == '/'))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>The query's parameters sorted by name then value, each already encoded as sent.</summary>
    private static string CanonicalQuery(string encodedQuery)
    {
        if (encodedQuery.Length == 0)
        {
            return string.Empty;
        }

        var pairs = encodedQuery.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: p[0], Value: p.Length > 1 ? p[1] : string.Empty))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>A header value trimmed with inner runs of spaces made one, as the canonical form wants.</summary>
    private static string Normalize(string value) => string.Join(' ', value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Trim();

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
