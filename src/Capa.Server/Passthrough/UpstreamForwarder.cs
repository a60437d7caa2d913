using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Protocol;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Providers.Upstream;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Passthrough;

/// <summary>
/// Passes one HTTP request to an upstream OpenAI-compatible endpoint and its answer back, byte for byte: JSON, server-sent
/// events (flushed as they arrive), multipart uploads and binary downloads alike. The upstream's key replaces the
/// client's; a JSON body or multipart form whose <c>model</c> is a configured alias gets the alias's target and nothing
/// else changed (a form is rebuilt part by part, <see cref="UpstreamMultipart"/>).
/// </summary>
internal sealed class UpstreamForwarder
{
    private static readonly string[] RequestHeaders = ["Accept", "OpenAI-Beta", "Idempotency-Key"];
    private static readonly string[] ResponseHeaders = ["Content-Disposition", "Cache-Control", "openai-processing-ms", "x-request-id", "Retry-After"];

    /// <summary>
    /// Largest multipart body parsed to find an aliased <c>model</c> (OpenAI's largest multipart inputs, upload parts
    /// and image edits, are 64 MB at most); a larger form goes as sent.
    /// </summary>
    private const long MaxParsedFormBytes = 64L * 1024 * 1024;

    private readonly ServerSettings _settings;
    private readonly HttpClient _client;
    private readonly ILogger _logger;

    public UpstreamForwarder(ServerSettings settings, UpstreamHttpClient client, ILogger<UpstreamForwarder> logger)
    {
        _settings = settings;
        _client = client.Client;
        _logger = logger;
    }

    /// <summary>Forwards the request; <see langword="false"/> when no upstream is configured (nothing was written).</summary>
    public async Task<bool> TryForwardAsync(HttpContext context)
    {
        if (_settings.Upstreams.Count == 0)
        {
            return false;
        }

        var aborted = context.RequestAborted;
        HttpContent? content = null;
        string? model = null;
        if (ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            using var body = await BoundedBodyReader.ReadAsync(context.Request, _settings.MaxBodyBytes, aborted).ConfigureAwait(false);
            if (body is null)
            {
                await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
                return true;
            }

            (content, model) = JsonContent(body.Memory);
        }
        else if (UpstreamMultipart.IsFormData(context.Request.ContentType))
        {
            (content, model) = await MultipartContentAsync(context).ConfigureAwait(false);
        }
        else if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            content = RawBody(context.Request);
        }

        // A rebuilt form carries its own type (its own boundary); any other body keeps the client's.
        if (content is not null && content.Headers.ContentType is null && context.Request.ContentType is { } contentType)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        await ForwardAsync(context, Choose(model), content).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Forwards the request to <paramref name="upstream"/> with <paramref name="content"/> as its body (a body already
    /// read and rewritten by a local endpoint that found no local model), and copies the answer back.
    /// </summary>
    public async Task ForwardAsync(HttpContext context, UpstreamOptions upstream, HttpContent? content)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(upstream);
        var requestId = RequestIds.Get(context);
        var aborted = context.RequestAborted;
        var baseUrl = upstream.BaseUrl.AbsoluteUri.TrimEnd('/');
        var path = context.Request.Path.Value!["/v1".Length..];
        var uri = new Uri(baseUrl + path + context.Request.QueryString.Value);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), uri) { Content = content };
        foreach (var name in RequestHeaders)
        {
            if (context.Request.Headers.TryGetValue(name, out var values))
            {
                request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (upstream.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        PassthroughLog.Forwarding(_logger, requestId, context.Request.Method, path, upstream.Name);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var limit = upstream.Timeout ?? _settings.UpstreamTimeout;
        HttpResponseMessage response;
        try
        {
            timeout.CancelAfter(limit);
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!aborted.IsCancellationRequested && e is HttpRequestException or IOException or OperationCanceledException)
        {
            PassthroughLog.Failed(_logger, requestId, upstream.Name, e.GetType().Name);
            await ErrorWriter.WriteAsync(context, e is OperationCanceledException ? ApiError.Timeout() : ApiError.UpstreamUnavailable()).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            await CopyResponseAsync(context, response, timeout, limit, requestId, upstream.Name).ConfigureAwait(false);
        }
    }

    /// <summary>A JSON body with its <c>model</c> replaced by <paramref name="model"/> (the rest unchanged).</summary>
    public static HttpContent JsonWithModel(ReadOnlyMemory<byte> body, string model)
    {
        HttpContent content;
        if (JsonNode.Parse(body.Span) is JsonObject obj)
        {
            obj["model"] = model;
            content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(obj, UpstreamJsonContext.Default.JsonObject));
        }
        else
        {
            content = new ByteArrayContent(body.ToArray());
        }

        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }

    private async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response, CancellationTokenSource timeout, TimeSpan limit, string requestId, string upstreamName)
    {
        var output = context.Response;
        output.StatusCode = (int)response.StatusCode is >= 200 and <= 599 ? (int)response.StatusCode : StatusCodes.Status502BadGateway;
        if (response.Content.Headers.ContentType is { } type)
        {
            output.ContentType = type.ToString();
        }

        if (response.Content.Headers.ContentLength is { } length)
        {
            output.ContentLength = length;
        }

        foreach (var name in ResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
            {
                output.Headers[name] = values.ToArray();
            }
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var buffer = new byte[16 * 1024];
        try
        {
            var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    // The timeout measures the upstream's silence, as for chat streams: armed per read.
                    timeout.CancelAfter(limit);
                    var read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    await output.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                    await output.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested && e is HttpRequestException or IOException or OperationCanceledException)
        {
            // Headers may be sent: the connection is cut so the client sees an incomplete body, never a truncated success.
            PassthroughLog.Failed(_logger, requestId, upstreamName, e.GetType().Name);
            if (!output.HasStarted)
            {
                output.ContentLength = null;
                await ErrorWriter.WriteAsync(context, ApiError.UpstreamUnavailable()).ConfigureAwait(false);
            }
            else
            {
                context.Abort();
            }
        }
    }

    private static StreamContent RawBody(HttpRequest request)
    {
        var content = new StreamContent(request.Body);
        if (request.ContentLength is { } length)
        {
            content.Headers.ContentLength = length;
        }

        return content;
    }

    /// <summary>
    /// A multipart body for the upstream and its model: the body as sent unless its <c>model</c> is a configured alias,
    /// then the form rebuilt with the alias's target. A form a local endpoint already parsed (image edits) is used as
    /// it is; another is parsed only when aliases are configured, with the body buffered so that it can still go as sent.
    /// </summary>
    private async Task<(HttpContent? Content, string? Model)> MultipartContentAsync(HttpContext context)
    {
        var request = context.Request;
        var form = context.Features.Get<IFormFeature>()?.Form;
        if (form is null && _settings.Aliases.Count > 0 && !(request.ContentLength > MaxParsedFormBytes))
        {
            request.EnableBuffering(bufferThreshold: 1024 * 1024);
            context.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions { MultipartBodyLengthLimit = MaxParsedFormBytes, BufferBody = true }));
            try
            {
                form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (InvalidDataException)
            {
                // Malformed, or past the parser's limits: the upstream gets it as sent and answers it.
            }
        }

        var model = form is null ? null : UpstreamMultipart.Model(form);
        if (model is not null && _settings.Aliases.TryGetValue(model, out var target))
        {
            return (UpstreamMultipart.FromForm(form!, target), target);
        }

        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
            return (RawBody(request), model);
        }

        // Read by a local endpoint that kept no copy of the body: the parsed form is all there is.
        return (form is null ? RawBody(request) : UpstreamMultipart.FromForm(form, null), model);
    }

    /// <summary>The upstream that lists <paramref name="model"/> by name, else the first that serves any id, else the first.</summary>
    private UpstreamOptions Choose(string? model)
    {
        if (model is not null)
        {
            foreach (var upstream in _settings.Upstreams)
            {
                if (upstream.Models.Contains(model, StringComparer.Ordinal))
                {
                    return upstream;
                }
            }
        }

        return _settings.Upstreams.FirstOrDefault(u => u.ServesAnyModel) ?? _settings.Upstreams[0];
    }

    /// <summary>The body to send, with a configured alias in <c>model</c> replaced by its target; the served model id.</summary>
    private (HttpContent Content, string? Model) JsonContent(ReadOnlyMemory<byte> body)
    {
        string? model = null;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = _settings.MaxJsonDepth });
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("model", out var value) && value.ValueKind == JsonValueKind.String)
            {
                model = value.GetString();
            }
        }
        catch (JsonException)
        {
            // Not JSON after all: the upstream answers it with its own 400.
        }

        if (model is not null && _settings.Aliases.TryGetValue(model, out var target)
            && JsonNode.Parse(body.Span) is JsonObject obj)
        {
            obj["model"] = target;
            return (new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(obj, UpstreamJsonContext.Default.JsonObject)), target);
        }

        return (new ByteArrayContent(body.ToArray()), model);
    }
}

internal static partial class PassthroughLog
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "{RequestId} forwarding {Method} {Path} to upstream {Upstream}")]
    public static partial void Forwarding(ILogger logger, string requestId, string method, string path, string upstream);

    [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "{RequestId} upstream {Upstream} failed: {Reason}")]
    public static partial void Failed(ILogger logger, string requestId, string upstream, string reason);
}
