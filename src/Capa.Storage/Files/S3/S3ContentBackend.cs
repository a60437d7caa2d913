using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Xml;
using System.Xml.Linq;

namespace Capa.Storage.Files.S3;

/// <summary>Where and how to reach an S3-compatible bucket.</summary>
public sealed record S3Options
{
    /// <summary>The service's base URL, e.g. <c>https://s3.eu-west-1.amazonaws.com</c> or <c>http://127.0.0.1:9000</c>.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>The bucket (it must exist).</summary>
    public required string Bucket { get; init; }

    /// <summary>The signing region (<c>us-east-1</c> for most non-AWS services).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>A key prefix under which the content objects are kept, e.g. <c>capa/files/</c>.</summary>
    public string Prefix { get; init; } = "capa/files/";

    /// <summary>Bucket in the path (<c>endpoint/bucket/key</c>, MinIO and most others) rather than the host name (<c>bucket.endpoint/key</c>).</summary>
    public bool PathStyle { get; init; } = true;

    public required string AccessKeyId { get; init; }

    public required string SecretAccessKey { get; init; }

    /// <summary>Temporary credentials' session token, or null.</summary>
    public string? SessionToken { get; init; }

    /// <summary>Bound on each request (a large upload included).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>The bucket answered with an error (or could not be reached).</summary>
public sealed class S3Exception(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Content objects in an S3-compatible bucket, at <c>{prefix}sha256/ab/abcdef...</c>, through plain HTTP with Signature
/// Version 4: PUT with the content's own SHA-256 as the signed payload hash (so the service checks the bytes it
/// received), GET streamed, DELETE after a HEAD that spares young objects, and ListObjects pages for the sweep.
/// </summary>
public sealed class S3ContentBackend : IContentBackend, IDisposable
{
    private readonly S3Options _options;
    private readonly HttpClient _http;
    private readonly SigV4Signer _signer;
    private readonly TimeProvider _time;

    public S3ContentBackend(S3Options options, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = options.Timeout;
        _signer = new SigV4Signer(options.AccessKeyId, options.SecretAccessKey, options.Region, "s3", options.SessionToken);
    }

    /// <inheritdoc/>
    public string Location => $"s3://{_options.Bucket}/{_options.Prefix} at {_options.Endpoint.GetLeftPart(UriPartial.Authority)}";

    private string KeyOf(string sha256) => $"{_options.Prefix}sha256/{sha256[..2]}/{sha256}";

    /// <summary>The URL of <paramref name="key"/> (or of the bucket when null), with an encoded query.</summary>
    private Uri UrlOf(string? key, string query = "")
    {
        string root = _options.Endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/');
        string path = key is null ? string.Empty : "/" + SigV4Signer.Encode(key, keepSlashes: true);
        string url = _options.PathStyle
            ? $"{root}/{SigV4Signer.Encode(_options.Bucket)}{(key is null ? "/" : path)}"
            : $"{_options.Endpoint.Scheme}://{_options.Bucket}.{_options.Endpoint.Authority}{(key is null ? "/" : path)}";
        return new Uri(query.Length == 0 ? url : url + "?" + query);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, HttpContent? content, string payloadHash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        _signer.Sign(request, payloadHash, _time.GetUtcNow());
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new S3Exception($"The bucket at {_options.Endpoint.GetLeftPart(UriPartial.Authority)} could not be reached: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new S3Exception($"The bucket at {_options.Endpoint.GetLeftPart(UriPartial.Authority)} did not answer within {_options.Timeout.TotalSeconds:0} s.", e);
        }
    }

    private static async Task<S3Exception> FailureAsync(string what, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string code = string.Empty;
        try
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > 0)
            {
                code = XDocument.Parse(body).Root?.Element("Code")?.Value ?? string.Empty;
            }
        }
        catch (XmlException)
        {
        }

        return new S3Exception($"S3 {what} failed: {(int)response.StatusCode} {code}".TrimEnd());
    }

    /// <inheritdoc/>
    public async Task PutAsync(string sha256, string stagedPath, long length, CancellationToken cancellationToken)
    {
        await using (var file = new FileStream(stagedPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            using var content = new StreamContent(file);
            content.Headers.ContentLength = length;
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            // The payload hash is the content's address: the service refuses bytes that do not match it.
            using HttpResponseMessage response = await SendAsync(HttpMethod.Put, UrlOf(KeyOf(sha256)), content, sha256, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await FailureAsync("PUT", response, cancellationToken).ConfigureAwait(false);
            }
        }

        FileContentStore.TryDelete(stagedPath);
    }

    /// <inheritdoc/>
    public async Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken)
    {
        HttpResponseMessage response = await SendAsync(HttpMethod.Get, UrlOf(KeyOf(sha256)), null, SigV4Signer.EmptyPayloadHash, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await FailureAsync("GET", response, cancellationToken).ConfigureAwait(false);
            }
        }

        return new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync(string sha256, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        Uri url = UrlOf(KeyOf(sha256));
        if (writtenBefore != DateTimeOffset.MaxValue)
        {
            using HttpResponseMessage head = await SendAsync(HttpMethod.Head, url, null, SigV4Signer.EmptyPayloadHash, cancellationToken).ConfigureAwait(false);
            if (head.StatusCode == HttpStatusCode.NotFound)
            {
                return true;
            }

            if (!head.IsSuccessStatusCode)
            {
                throw await FailureAsync("HEAD", head, cancellationToken).ConfigureAwait(false);
            }

            if (head.Content.Headers.LastModified is { } modified && modified > writtenBefore)
            {
                return false;
            }
        }

        using HttpResponseMessage response = await SendAsync(HttpMethod.Delete, url, null, SigV4Signer.EmptyPayloadHash, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw await FailureAsync("DELETE", response, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// ListObjects (version 1) with the last key as the marker: every S3-compatible service pages it the same way,
    /// where version 2's continuation tokens are service-specific.
    /// </remarks>
    public async IAsyncEnumerable<ContentObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string prefix = _options.Prefix + "sha256/";
        string? marker = null;
        for (var page = 0; page < 1_000_000; page++)
        {
            string query = (marker is null ? string.Empty : "marker=" + SigV4Signer.Encode(marker) + "&")
                + "max-keys=1000&prefix=" + SigV4Signer.Encode(prefix);
            XDocument document;
            using (HttpResponseMessage response = await SendAsync(HttpMethod.Get, UrlOf(null, query), null, SigV4Signer.EmptyPayloadHash, cancellationToken).ConfigureAwait(false))
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw await FailureAsync("ListObjects", response, cancellationToken).ConfigureAwait(false);
                }

                await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                document = await XDocument.LoadAsync(body, LoadOptions.None, cancellationToken).ConfigureAwait(false);
            }

            XElement root = document.Root ?? throw new S3Exception("S3 ListObjects answered an empty document.");
            XNamespace ns = root.Name.Namespace;
            string? last = null;
            foreach (XElement item in root.Elements(ns + "Contents"))
            {
                string key = item.Element(ns + "Key")?.Value ?? string.Empty;
                last = key;
                string name = key[(key.LastIndexOf('/') + 1)..];
                if (FileContentStore.IsAddress(name)
                    && DateTimeOffset.TryParse(item.Element(ns + "LastModified")?.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset modified))
                {
                    yield return new ContentObject(name, modified);
                }
            }

            marker = root.Element(ns + "NextMarker")?.Value is { Length: > 0 } next ? next : last;
            if (!string.Equals(root.Element(ns + "IsTruncated")?.Value, "true", StringComparison.OrdinalIgnoreCase) || marker is null)
            {
                yield break;
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A response body that disposes its response with it.</summary>
    private sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.Content.Headers.ContentLength ?? throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
