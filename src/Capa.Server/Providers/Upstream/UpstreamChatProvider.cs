using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Protocol;
using Capa.Server.Hosting;
using Capa.Server.Routing;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Providers.Upstream;

/// <summary>
/// Forwards chat completions to an OpenAI-compatible endpoint. The client's JSON goes through unchanged except for
/// <c>model</c> when the id was an alias; streams pass through event by event, byte for byte (again except
/// <c>model</c> for aliases); upstream errors keep their status and body.
/// </summary>
public sealed class UpstreamChatProvider : IChatProvider
{
    private const int MaxResponseBytes = 64 * 1024 * 1024;
    private const int MaxErrorBytes = 1024 * 1024;
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _client;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly Uri _chatCompletionsUri;
    private readonly HashSet<string> _models;
    private readonly IReadOnlyList<ProviderModel> _listed;

    internal UpstreamChatProvider(UpstreamOptions options, HttpClient client, TimeSpan defaultTimeout, ILogger logger)
    {
        Options = options;
        _client = client;
        _timeout = options.Timeout ?? defaultTimeout;
        _logger = logger;
        var baseUrl = options.BaseUrl.AbsoluteUri.EndsWith('/') ? options.BaseUrl : new Uri(options.BaseUrl.AbsoluteUri + "/");
        _chatCompletionsUri = new Uri(baseUrl, "chat/completions");
        _models = options.Models.Where(m => m != "*").ToHashSet(StringComparer.Ordinal);
        _listed = _models.Order(StringComparer.Ordinal).Select(Describe).ToArray();
    }

    /// <summary>The upstream's configuration.</summary>
    public UpstreamOptions Options { get; }

    /// <inheritdoc />
    public string Name => Options.Name;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_listed);

    /// <inheritdoc />
    public async Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            using var response = await SendAsync(call, stream: false, timeout).ConfigureAwait(false);
            timeout.CancelAfter(_timeout);
            var body = await ReadBoundedAsync(response.Content, MaxResponseBytes, timeout.Token).ConfigureAwait(false);
            if (body is null)
            {
                throw Failure(call, "response too large", new ChatProviderException(ApiError.UpstreamUnavailable()));
            }

            return ChatCompletionResult.FromJson(call.IsAliased ? RewriteModel(body, call.ResponseModel, call, this) : body);
        }
        catch (Exception e) when (Translate(e, call, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(call, stream: true, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, call, cancellationToken) is { } translated)
        {
            throw translated;
        }

        using (response)
        {
            if (!string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                // An upstream that ignores `stream` would otherwise look like an empty stream.
                throw Failure(call, "stream answered without text/event-stream", new ChatProviderException(ApiError.UpstreamUnavailable()));
            }

            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (Translate(e, call, cancellationToken) is { } translated)
            {
                throw translated;
            }

            var parser = new SseEventParser(MaxResponseBytes);
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (true)
                {
                    while (parser.TryRead(out var item))
                    {
                        if (item.IsDone)
                        {
                            yield break;
                        }

                        yield return ChatStreamEvent.FromData(call.IsAliased ? RewriteModel(item.Data, call.ResponseModel, call, this) : item.Data);
                    }

                    int read;
                    try
                    {
                        // The timeout measures the upstream's silence: armed for each read, off while the client is served.
                        timeout.CancelAfter(_timeout);
                        read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                        timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                        parser.Append(buffer.AsSpan(0, read));
                    }
                    catch (Exception e) when (Translate(e, call, cancellationToken) is { } translated)
                    {
                        throw translated;
                    }

                    if (read == 0)
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                await body.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    internal bool ServesExplicitly(string modelId) => _models.Contains(modelId);

    internal ProviderModel Describe(string modelId) =>
        new(modelId, ModelCapabilities.Chat | ModelCapabilities.Json | ModelCapabilities.Tools | ModelCapabilities.Vision
            | ModelCapabilities.AudioInput | ModelCapabilities.AudioOutput) { OwnedBy = Name };

    private async Task<HttpResponseMessage> SendAsync(ChatCall call, bool stream, CancellationTokenSource timeout)
    {
        // Unaliased requests go out byte for byte; aliased ones get the served id in `model` and nothing else changed.
        var body = call.IsAliased ? call.Request.ToForwardedJson(call.TargetModel) : call.Body;
        using var request = new HttpRequestMessage(HttpMethod.Post, _chatCompletionsUri)
        {
            Content = new ReadOnlyMemoryContent(body),
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
        if (Options.ApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        timeout.CancelAfter(_timeout);
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            ServerLog.UpstreamError(_logger, call.RequestId, Name, status);
            var errorBody = await ReadBoundedAsync(response.Content, MaxErrorBytes, timeout.Token).ConfigureAwait(false) ?? [];
            throw UpstreamStatusError(status, errorBody, response.Headers.RetryAfter);
        }
    }

    private static ChatProviderException UpstreamStatusError(int status, byte[] body, RetryConditionHeaderValue? retryAfter)
    {
        int? retrySeconds = retryAfter?.Delta is { } delta ? (int)Math.Ceiling(delta.TotalSeconds) : null;
        if (status is < 400 or > 599)
        {
            // A redirect or an informational status is not something an OpenAI client can act on.
            return new ChatProviderException(ApiError.UpstreamUnavailable());
        }

        if (ApiError.TryParse(body, status, out var error))
        {
            // The upstream's own body goes back unchanged: it may carry fields beyond the four standard ones.
            return new ChatProviderException(Retry(error, retrySeconds)) { Body = body };
        }

        return new ChatProviderException(Retry(ApiError.FromUpstreamResponse(status, body), retrySeconds));
    }

    private static ApiError Retry(ApiError error, int? seconds) => seconds is null
        ? error
        : new ApiError(error.Status, error.Message, error.Type, error.Param, error.Code) { RetryAfterSeconds = seconds };

    /// <summary>Maps transport failures to clean errors; leaves client cancellation and provider errors alone.</summary>
    private ChatProviderException? Translate(Exception exception, ChatCall call, CancellationToken clientToken)
    {
        if (exception is ChatProviderException || clientToken.IsCancellationRequested)
        {
            return null;
        }

        switch (exception)
        {
            case OperationCanceledException or TimeoutException:
                ServerLog.UpstreamFailed(_logger, call.RequestId, Name, "timeout");
                return new ChatProviderException(ApiError.Timeout());
            case HttpRequestException { InnerException: TimeoutException or OperationCanceledException }:
                ServerLog.UpstreamFailed(_logger, call.RequestId, Name, "connect timeout");
                return new ChatProviderException(ApiError.Timeout());
            case HttpRequestException or IOException:
                ServerLog.UpstreamFailed(_logger, call.RequestId, Name, exception.GetType().Name);
                return new ChatProviderException(ApiError.UpstreamUnavailable());
            case InvalidDataException or JsonException:
                ServerLog.UpstreamFailed(_logger, call.RequestId, Name, "malformed response");
                return new ChatProviderException(ApiError.UpstreamUnavailable());
            default:
                return null;
        }
    }

    private ChatProviderException Failure(ChatCall call, string reason, ChatProviderException error)
    {
        ServerLog.UpstreamFailed(_logger, call.RequestId, Name, reason);
        return error;
    }

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new ArrayBufferWriter<byte>(checked((int)Math.Min(content.Headers.ContentLength ?? 16 * 1024, limit) + 1));
            while (true)
            {
                var memory = buffer.GetMemory(16 * 1024);
                var read = await stream.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.WrittenSpan.ToArray();
                }

                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    return null;
                }
            }
        }
    }

    /// <summary>Replaces the top-level <c>model</c> of a JSON object (aliases only; other requests pass unchanged).</summary>
    private static byte[] RewriteModel(ReadOnlyMemory<byte> json, string model, ChatCall call, UpstreamChatProvider provider)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json.Span, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw provider.Failure(call, "malformed JSON", new ChatProviderException(ApiError.UpstreamUnavailable()));
        }

        if (node is not JsonObject obj)
        {
            throw provider.Failure(call, "JSON is not an object", new ChatProviderException(ApiError.UpstreamUnavailable()));
        }

        try
        {
            obj["model"] = model;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw provider.Failure(call, "malformed JSON", new ChatProviderException(ApiError.UpstreamUnavailable()));
        }

        return JsonSerializer.SerializeToUtf8Bytes(obj, UpstreamJsonContext.Default.JsonObject);
    }
}
