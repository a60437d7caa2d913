using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Capa.Protocol;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Capa.Server.Chat;

/// <summary>
/// <c>POST /v1/chat/completions</c>: content type, size limit, admission (429), validation (400), routing (404), then
/// the provider's answer as one JSON body or as server-sent events flushed chunk by chunk.
/// </summary>
internal sealed class ChatCompletionsEndpoint
{
    /// <summary>The response header with the seed a completion was sampled with.</summary>
    public const string SeedHeader = "x-capa-seed";

    private readonly ServerSettings _settings;
    private readonly ChatRequestLimits _limits;
    private readonly RequestGate _gate;
    private readonly ModelRouter _router;
    private readonly ILogger _logger;

    public ChatCompletionsEndpoint(ServerSettings settings, RequestGate gate, ModelRouter router, ILogger<ChatCompletionsEndpoint> logger)
    {
        _settings = settings;
        _limits = ChatRequestLimits.Default with
        {
            MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue),
            MaxDepth = settings.MaxJsonDepth,
        };
        _gate = gate;
        _router = router;
        _logger = logger;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var requestId = RequestIds.Get(context);
        if (!IsJson(context.Request.ContentType))
        {
            await RejectAsync(context, requestId, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return;
        }

        using var lease = await _gate.EnterAsync(aborted).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            await RejectAsync(context, requestId, ApiError.RateLimited(_settings.RetryAfterSeconds)).ConfigureAwait(false);
            return;
        }

        using var body = await BoundedBodyReader.ReadAsync(context.Request, _settings.MaxBodyBytes, aborted).ConfigureAwait(false);
        if (body is null)
        {
            // The rest of the body is left to Kestrel, which drains it (bounded by its data-rate limits) so that the
            // client, still sending, reads this answer instead of a reset connection.
            await RejectAsync(context, requestId, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
            return;
        }

        if (!ChatRequestReader.TryRead(body.Memory.Span, _limits, out var request, out var invalid))
        {
            await RejectAsync(context, requestId, invalid).ConfigureAwait(false);
            return;
        }

        var needed = ChatNeeds.Of(request);
        var route = await _router.ResolveAsync(request.Model, needed, aborted).ConfigureAwait(false);
        if (route is null)
        {
            await RejectAsync(context, requestId, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            return;
        }

        if (route.Model is { } model && (model.Capabilities & ModelCapabilities.Chat) == 0)
        {
            await RejectAsync(context, requestId, ApiError.InvalidRequest($"The model `{request.Model}` does not support chat completions.", "model", "model_not_supported")).ConfigureAwait(false);
            return;
        }

        if (ModelRouter.Lacks(route, needed) && ChatNeeds.Refusal(request, route, needed) is { } refusal)
        {
            await RejectAsync(context, requestId, refusal).ConfigureAwait(false);
            return;
        }

        ServerLog.Routed(_logger, requestId, route.RequestedModel, route.Provider.Name, route.TargetModel, request.IsStreaming);
        var call = new ChatCall
        {
            Request = request,
            Body = body.Memory,
            TargetModel = route.TargetModel,
            ResponseModel = route.RequestedModel,
            RequestId = requestId,
        };

        if (request.IsStreaming)
        {
            await StreamAsync(context, (IChatProvider)route.Provider, call).ConfigureAwait(false);
        }
        else
        {
            await CompleteAsync(context, (IChatProvider)route.Provider, call).ConfigureAwait(false);
        }
    }

    /// <summary>Accepts <c>application/json</c> (any case, with parameters); a charset other than UTF-8 is refused.</summary>
    internal static bool IsJson(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)
            || !media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        return !charset.HasValue || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    private async Task CompleteAsync(HttpContext context, IChatProvider provider, ChatCall call)
    {
        ChatCompletionResult result;
        try
        {
            result = await provider.CompleteAsync(call, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ChatProviderException e)
        {
            await RejectAsync(context, call.RequestId, e.Error, e.Body).ConfigureAwait(false);
            return;
        }

        WriteSeedHeader(context, call);
        var json = result.Response is { } response
            ? CapaJsonContext.ToWireBytes(response, CapaJsonContext.Default.ChatCompletionResponse)
            : result.Json;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext context, IChatProvider provider, ChatCall call)
    {
        var aborted = context.RequestAborted;
        var events = provider.StreamAsync(call, aborted).GetAsyncEnumerator(aborted);
        await using (events.ConfigureAwait(false))
        {
            bool more;
            try
            {
                more = await events.MoveNextAsync().ConfigureAwait(false);
            }
            catch (ChatProviderException e)
            {
                // Nothing is sent yet, so the error keeps its HTTP status.
                await RejectAsync(context, call.RequestId, e.Error, e.Body).ConfigureAwait(false);
                return;
            }

            WriteSeedHeader(context, call);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = Sse.ContentType;
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var output = response.BodyWriter;
            try
            {
                while (more)
                {
                    WriteEvent(output, events.Current);
                    await output.FlushAsync(aborted).ConfigureAwait(false);
                    more = await events.MoveNextAsync().ConfigureAwait(false);
                }
            }
            catch (ChatProviderException e) when (!aborted.IsCancellationRequested)
            {
                // Headers are sent: the error travels as an event, and the missing [DONE] tells the client it is incomplete.
                ServerLog.StreamFailed(_logger, call.RequestId, e.Error.Status, e.Error.Message);
                Sse.WriteError(output, e.Error);
                await output.FlushAsync(aborted).ConfigureAwait(false);
                return;
            }

            Sse.WriteDone(output);
            await output.FlushAsync(aborted).ConfigureAwait(false);
        }
    }

    private static void WriteSeedHeader(HttpContext context, ChatCall call)
    {
        if ((call.SeedUsed ?? call.Request.Seed) is { } seed)
        {
            context.Response.Headers[SeedHeader] = seed.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static void WriteEvent(System.IO.Pipelines.PipeWriter output, ChatStreamEvent item)
    {
        if (item.Chunk is { } chunk)
        {
            Sse.WriteChunk(output, chunk);
            return;
        }

        output.Write("data: "u8);
        output.Write(item.Data.Span);
        output.Write("\n\n"u8);
    }

    private Task RejectAsync(HttpContext context, string requestId, ApiError error, ReadOnlyMemory<byte> body = default)
    {
        ServerLog.Rejected(_logger, requestId, error.Status, error.Code);
        return ErrorWriter.WriteAsync(context, error, body);
    }
}
