using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Capa.Protocol;

/// <summary>
/// An error answered in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, with its HTTP
/// status. Messages never contain internals (exception text, paths, keys).
/// </summary>
public sealed class ApiError
{
    /// <summary><c>invalid_request_error</c>: the request is wrong (also used by OpenAI for 401 and 404).</summary>
    public const string InvalidRequestType = "invalid_request_error";

    /// <summary><c>server_error</c>: the server failed.</summary>
    public const string ServerErrorType = "server_error";

    /// <summary><c>requests</c>: a request-rate limit (OpenAI's type for 429 with code <c>rate_limit_exceeded</c>).</summary>
    public const string RateLimitType = "requests";

    private const string ApiKeysHint = "Check the API keys configured for this server.";

    /// <summary>Creates an error.</summary>
    public ApiError(int status, string message, string type, string? param = null, string? code = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(type);
        Status = status;
        Message = message;
        Type = type;
        Param = param;
        Code = code;
    }

    /// <summary>The HTTP status code.</summary>
    public int Status { get; }

    /// <summary>Human-readable message.</summary>
    public string Message { get; }

    /// <summary>Error class (<c>invalid_request_error</c>, <c>server_error</c>, ...).</summary>
    public string Type { get; }

    /// <summary>The offending parameter as a dotted path (<c>messages[0].content</c>), or null.</summary>
    public string? Param { get; }

    /// <summary>Machine-readable code (<c>model_not_found</c>, <c>invalid_api_key</c>, ...), or null.</summary>
    public string? Code { get; }

    /// <summary>Seconds a client should wait before retrying (the <c>Retry-After</c> header), or null.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>400 <c>invalid_request_error</c> naming the parameter at fault.</summary>
    public static ApiError InvalidRequest(string message, string? param, string? code = null) =>
        new(400, message, InvalidRequestType, param, code);

    /// <summary>400 for a body that is not JSON (malformed, truncated, not UTF-8).</summary>
    public static ApiError InvalidJson(string? detail = null) => new(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. "
        + "The API expects a JSON payload, but what was sent was not valid JSON."
        + (detail is null ? ")" : " " + detail + ")"),
        InvalidRequestType);

    /// <summary>401 for a request without an API key when the server requires one.</summary>
    public static ApiError MissingApiKey() => new(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
        + "(i.e. Authorization: Bearer YOUR_KEY). " + ApiKeysHint,
        InvalidRequestType);

    /// <summary>
    /// 401 for a wrong API key, with the key masked (<c>sk-ab***yz</c>); a null or empty key gives
    /// <see cref="MissingApiKey"/>.
    /// </summary>
    public static ApiError InvalidApiKey(string? providedKey) => string.IsNullOrEmpty(providedKey)
        ? MissingApiKey()
        : new(401, $"Incorrect API key provided: {MaskKey(providedKey)}. {ApiKeysHint}", InvalidRequestType, null, "invalid_api_key");

    /// <summary>404 for a model id that no provider serves.</summary>
    public static ApiError ModelNotFound(string model) => new(
        404,
        $"The model `{Printable(model, 256)}` does not exist or you do not have access to it.",
        InvalidRequestType,
        null,
        "model_not_found");

    /// <summary>404 for an unknown route, as OpenAI words it: <c>Invalid URL (POST /v1/x)</c>.</summary>
    public static ApiError UnknownUrl(string method, string path) =>
        new(404, $"Invalid URL ({Printable(method, 16)} {Printable(path, 256)})", InvalidRequestType);

    /// <summary>405 for a known route called with the wrong method.</summary>
    public static ApiError MethodNotAllowed(string method, string path) =>
        new(405, $"Invalid method for URL ({Printable(method, 16)} {Printable(path, 256)})", InvalidRequestType, null, "method_not_allowed");

    /// <summary>413 for a body over the configured limit.</summary>
    public static ApiError PayloadTooLarge(long limitBytes) => new(
        413,
        string.Create(CultureInfo.InvariantCulture, $"The request body is too large. The maximum size is {limitBytes} bytes."),
        InvalidRequestType,
        null,
        "request_too_large");

    /// <summary>415 for a body that is not <c>application/json</c>.</summary>
    public static ApiError UnsupportedMediaType(string? contentType) => new(
        415,
        string.IsNullOrEmpty(contentType)
            ? "Missing Content-Type header. The request body must be JSON (Content-Type: application/json)."
            : $"Unsupported Content-Type '{Printable(contentType, 128)}'. The request body must be JSON (Content-Type: application/json).",
        InvalidRequestType,
        null,
        "unsupported_media_type");

    /// <summary>429 when the server's queue is full; <paramref name="retryAfterSeconds"/> feeds <c>Retry-After</c>.</summary>
    public static ApiError RateLimited(int retryAfterSeconds, string? message = null) => new(
        429,
        message ?? "The server is handling too many requests right now. Please retry after a short wait.",
        RateLimitType,
        null,
        "rate_limit_exceeded")
    { RetryAfterSeconds = Math.Max(0, retryAfterSeconds) };

    /// <summary>500 with OpenAI's words and no internals.</summary>
    public static ApiError ServerError() => new(
        500,
        "The server had an error while processing your request. Sorry about that!",
        ServerErrorType);

    /// <summary>503 when a model cannot take work now (loading, overloaded).</summary>
    public static ApiError Overloaded(int? retryAfterSeconds = null) => new(
        503,
        "That model is currently overloaded with other requests. You can retry your request.",
        ServerErrorType,
        null,
        "overloaded")
    { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>
    /// 504 (upstream did not answer in time) or 408 (the client was too slow sending its request).
    /// </summary>
    public static ApiError Timeout(int status = 504) => status switch
    {
        408 => new(408, "Request timed out while reading the request body.", InvalidRequestType, null, "request_timeout"),
        504 => new(504, "The upstream server did not respond in time. Please retry your request.", ServerErrorType, null, "timeout"),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Use 408 or 504."),
    };

    /// <summary>
    /// The HTTP layer could not read the request (broken framing, a body sent too slowly, size or header limits), with
    /// the status it chose: 408 is <see cref="Timeout"/>; 413 <c>request_too_large</c>; 431
    /// <c>request_header_fields_too_large</c>; any other status <c>malformed_request</c>. <paramref name="detail"/> is
    /// the HTTP layer's reason, shortened and stripped of control characters.
    /// </summary>
    public static ApiError UnreadableRequest(int status, string? detail)
    {
        if (status == 408)
        {
            return Timeout(408);
        }

        status = status is >= 400 and <= 599 ? status : 400;
        var (lead, code) = status switch
        {
            413 => ("The request body is too large", "request_too_large"),
            431 => ("The request's header fields are too large", "request_header_fields_too_large"),
            _ => ("The request could not be read", "malformed_request"),
        };
        var message = string.IsNullOrWhiteSpace(detail) ? lead + "." : lead + ": " + Printable(detail.Trim(), 256);
        return new(status, message, status >= 500 ? ServerErrorType : InvalidRequestType, null, code);
    }

    /// <summary>502 when an upstream endpoint cannot be reached or answers garbage.</summary>
    public static ApiError UpstreamUnavailable() => new(
        502,
        "The upstream server could not be reached or sent an invalid response.",
        ServerErrorType,
        null,
        "upstream_error");

    /// <summary>An upstream error passed through with its status, message, type, param and code.</summary>
    public static ApiError Upstream(int status, string message, string? type, string? param, string? code) =>
        new(status is >= 400 and <= 599 ? status : 502, message, string.IsNullOrEmpty(type) ? (status >= 500 ? ServerErrorType : InvalidRequestType) : type, param, code);

    /// <summary>
    /// An upstream error from its status and body: OpenAI-shaped bodies pass through; anything else becomes
    /// a generic message with the same status (the body is not echoed: it may hold internals).
    /// Never throws.
    /// </summary>
    public static ApiError FromUpstreamResponse(int status, ReadOnlySpan<byte> body)
    {
        if (TryParse(body, status, out var error))
        {
            return error;
        }

        return Upstream(
            status,
            string.Create(CultureInfo.InvariantCulture, $"The upstream server returned HTTP {status}."),
            null,
            null,
            null);
    }

    /// <summary>Reads an OpenAI-shaped error body. Never throws.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, int status, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ApiError? error)
    {
        error = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error"u8, out var inner)
                || inner.ValueKind != JsonValueKind.Object
                || !inner.TryGetProperty("message"u8, out var message)
                || message.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            error = Upstream(status, message.GetString()!, StringOrNull(inner, "type"u8), StringOrNull(inner, "param"u8), StringOrNull(inner, "code"u8));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The wire object.</summary>
    public ErrorResponse ToResponse() => new() { Error = new ErrorBody { Message = Message, Type = Type, Param = Param, Code = Code } };

    /// <summary>Writes <c>{"error":{...}}</c>.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, Message);
        writer.WriteString("type"u8, Type);
        writer.WriteString("param"u8, Param);
        writer.WriteString("code"u8, Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>{"error":{...}}</c> as UTF-8 to <paramref name="output"/>.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder });
        WriteTo(writer);
    }

    /// <summary><c>{"error":{...}}</c> as UTF-8 bytes.</summary>
    public byte[] ToUtf8Json()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteTo(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Status} {Type}/{Code ?? "-"} ({Param ?? "-"}): {Message}");

    /// <summary>
    /// Masks a key for display: at most a quarter of it is shown (up to 5 leading and 2 trailing characters),
    /// so a wrong key can be recognised by its owner but not recovered.
    /// </summary>
    public static string MaskKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var shown = key.Length / 4;
        var head = Math.Min(5, shown - Math.Min(2, shown / 3));
        var tail = Math.Min(2, shown / 3);
        if (head <= 0)
        {
            return "***";
        }

        return Printable(key[..head], head) + "***" + Printable(key[^tail..], tail);
    }

    private static string? StringOrNull(JsonElement element, ReadOnlySpan<byte> name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Keeps echoed client text short and free of control characters.</summary>
    private static string Printable(string text, int maxLength)
    {
        var truncated = text.Length > maxLength;
        var span = truncated ? text.AsSpan(0, maxLength) : text.AsSpan();
        if (!truncated && !span.ContainsAnyInRange('\0', '\u001f') && !span.Contains('\u007f'))
        {
            return text;
        }

        return string.Create(span.Length + (truncated ? 3 : 0), (text, span.Length, truncated), static (dest, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                var c = s.text[i];
                dest[i] = char.IsControl(c) ? '?' : c;
            }

            if (s.truncated)
            {
                "...".CopyTo(dest[s.Length..]);
            }
        });
    }
}
