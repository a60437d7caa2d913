using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Routing;
using Capa.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Responses;

/// <summary>
/// <c>/v1/responses</c>: a response runs as a chat completion stream on the routed provider (so tools, structured
/// output and constraints behave as on chat), turned into Responses events; its context is rebuilt from the store
/// (a <c>previous_response_id</c> chain of any depth, or a conversation), and the result stored with its input items.
/// </summary>
internal sealed class ResponsesEndpoint : IDisposable
{
    /// <summary>The deepest <c>previous_response_id</c> chain followed.</summary>
    public const int MaxChainDepth = 10_000;

    private readonly ServerSettings _settings;
    private readonly ChatRequestLimits _limits;
    private readonly RequestGate _gate;
    private readonly ModelRouter _router;
    private readonly ResponseStoreAccessor _stores;
    private readonly TimeProvider _time;
    private readonly BackgroundResponses _background;
    private readonly ILogger _logger;
    private readonly VectorStores.FileSearchRunner? _fileSearch;
    private readonly ResponseInputFiles _inputFiles;

    public ResponsesEndpoint(ServerSettings settings, RequestGate gate, ModelRouter router, ResponseStoreAccessor stores, TimeProvider time, BackgroundResponses background, ILogger<ResponsesEndpoint> logger, VectorStores.FileSearchRunner? fileSearch = null, Files.FileService? files = null, Vision.VisionInputOptions? vision = null)
    {
        _fileSearch = fileSearch;
        _background = background;
        _settings = settings;
        _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };
        _inputFiles = new ResponseInputFiles(files, vision, _limits.MaxStringLength, logger);
        _gate = gate;
        _router = router;
        _stores = stores;
        _time = time;
        _logger = logger;
    }

    public async Task CreateAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var requestId = RequestIds.Get(context);
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
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
            await RejectAsync(context, requestId, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
            return;
        }

        if (!ResponseRequestReader.TryRead(body.Memory.Span, _limits, out var request, out var invalid))
        {
            await RejectAsync(context, requestId, invalid).ConfigureAwait(false);
            return;
        }

        var store = await _stores.GetAsync(aborted).ConfigureAwait(false);
        var (history, missing) = await LoadContextAsync(store, request, aborted).ConfigureAwait(false);
        if (missing is not null)
        {
            await RejectAsync(context, requestId, missing).ConfigureAwait(false);
            return;
        }

        VectorStores.FileSearchOutcome? searched = null;
        if (request.FileSearch is { } fileSearch)
        {
            if (_fileSearch is null)
            {
                await RejectAsync(context, requestId, ApiError.InvalidRequest("Tool type 'file_search' is not supported by this server.", "tools", "unsupported_tool_type")).ConfigureAwait(false);
                return;
            }

            (searched, var searchError) = await _fileSearch.RunAsync(request, fileSearch, aborted).ConfigureAwait(false);
            if (searchError is not null)
            {
                await RejectAsync(context, requestId, searchError).ConfigureAwait(false);
                return;
            }

            // The excerpts are context for this answer only: they join the history the model sees, not the stored input.
            if (searched!.Context is { } excerpts)
            {
                history.Add(excerpts);
            }
        }

        // What the model reads: files named by the input (and by earlier turns) resolved to images and text. The
        // request as sent is what is stored.
        var (modelInput, inputError) = await _inputFiles.ResolveAsync(request.Input, i => string.Create(CultureInfo.InvariantCulture, $"input[{i}]"), "input", aborted).ConfigureAwait(false);
        var (modelHistory, historyError) = await _inputFiles.ResolveAsync(history, null, request.ConversationId is not null ? "conversation" : "previous_response_id", aborted).ConfigureAwait(false);
        if ((inputError ?? historyError) is { } fileError)
        {
            await RejectAsync(context, requestId, fileError).ConfigureAwait(false);
            return;
        }

        var modelRequest = ReferenceEquals(modelInput, request.Input) ? request : request with { Input = modelInput };
        if (!ResponsesChatRequest.TryCreate(modelRequest, modelHistory, _limits, out var chat, out var chatBody, out var chatError))
        {
            await RejectAsync(context, requestId, chatError).ConfigureAwait(false);
            return;
        }

        // Images route the request as on chat: to a model that reads them, else OpenAI's 400 naming the part.
        var needed = ChatNeeds.Of(chat);
        var route = await _router.ResolveAsync(request.Model, needed, aborted).ConfigureAwait(false);
        if (route is null)
        {
            await RejectAsync(context, requestId, ApiError.ModelNotFound(request.Model)).ConfigureAwait(false);
            return;
        }

        if (route.Model is { } model && (model.Capabilities & ModelCapabilities.Chat) == 0)
        {
            await RejectAsync(context, requestId, ApiError.InvalidRequest($"The model `{request.Model}` does not support responses.", "model", "model_not_supported")).ConfigureAwait(false);
            return;
        }

        if (ModelRouter.Lacks(route, needed) && ChatNeeds.Refusal(chat, route, needed) is { } refusal)
        {
            await RejectAsync(context, requestId, ResponsesChatRequest.ToResponsesError(refusal, modelRequest, modelHistory)).ConfigureAwait(false);
            return;
        }

        ServerLog.Routed(_logger, requestId, route.RequestedModel, route.Provider.Name, route.TargetModel, request.Stream);
        var call = new ChatCall { Request = chat, Body = chatBody, TargetModel = route.TargetModel, ResponseModel = route.RequestedModel, RequestId = requestId };
        var input = request.Input.Select(WithId).ToList();
        var attempts = ResponseChatAttempts.Create(
            (IChatProvider)route.Provider,
            call,
            modelRequest,
            modelHistory,
            searched?.Context is null ? 0 : 1,
            shorter => ResponsesChatRequest.TryCreate(modelRequest, shorter, _limits, out var shorterChat, out var shorterBody, out _) ? call with { Request = shorterChat, Body = shorterBody } : null);
        var builder = new ResponseStreamBuilder(Initial(request), request.WantsLogprobs);
        if (searched is not null)
        {
            builder.SetFileSearch(searched.Call, searched.Citations);
        }
        if (request.Background)
        {
            var queued = builder.Response with { Status = ResponseStatuses.Queued };
            var stored = new StoredResponse
            {
                Id = queued.Id,
                CreatedAt = queued.CreatedAt,
                Status = queued.Status,
                PreviousResponseId = queued.PreviousResponseId,
                ConversationId = request.ConversationId,
                Owner = _background.Owner,
                LeaseExpiresAt = _background.LeaseUntil(),
                Json = Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(queued, ResponsesJsonContext.Default.ResponseObject)),
            };
            await store.CreateResponseAsync(stored, input.Select(ToStored).ToList(), null, aborted).ConfigureAwait(false);
            _background.Start(store, stored, request, input, attempts, builder);
            if (request.Stream)
            {
                await ReplayAsync(context, store, queued.Id, -1).ConfigureAwait(false);
            }
            else
            {
                await WriteJsonAsync(context, Encoding.UTF8.GetBytes(stored.Json)).ConfigureAwait(false);
            }

            return;
        }

        await RunAsync(context, store, request, input, attempts, call, builder).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string id)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var stored = await store.GetResponseAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, RequestIds.Get(context), ResponseNotFound(id)).ConfigureAwait(false);
            return;
        }

        if (string.Equals(context.Request.Query["stream"], "true", StringComparison.OrdinalIgnoreCase))
        {
            if (!IsBackground(stored))
            {
                await RejectAsync(context, RequestIds.Get(context), ApiError.InvalidRequest("Streaming a stored response is only available for background responses.", "stream", "invalid_value")).ConfigureAwait(false);
                return;
            }

            long after = -1;
            if (context.Request.Query.TryGetValue("starting_after", out var startingAfter)
                && (!long.TryParse(startingAfter, NumberStyles.Integer, CultureInfo.InvariantCulture, out after) || after < -1))
            {
                await RejectAsync(context, RequestIds.Get(context), ApiError.InvalidRequest($"Invalid 'starting_after': expected a non-negative integer, but got '{startingAfter}' instead.", "starting_after", "invalid_value")).ConfigureAwait(false);
                return;
            }

            await ReplayAsync(context, store, id, after).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, Encoding.UTF8.GetBytes(stored.Json)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, string id)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        if (!await store.DeleteResponseAsync(id, context.RequestAborted).ConfigureAwait(false))
        {
            await RejectAsync(context, RequestIds.Get(context), ResponseNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, CapaJsonContext.ToWireBytes(new DeletedObject { Id = id, Object = "response" }, ResponsesJsonContext.Default.DeletedObject)).ConfigureAwait(false);
    }

    public async Task CancelAsync(HttpContext context, string id)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var stored = await store.GetResponseAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, RequestIds.Get(context), ResponseNotFound(id)).ConfigureAwait(false);
            return;
        }

        if (!IsBackground(stored))
        {
            await RejectAsync(context, RequestIds.Get(context), ApiError.InvalidRequest("Only responses created with background=true can be cancelled.", null, "invalid_request")).ConfigureAwait(false);
            return;
        }

        if (ResponseStatuses.IsUnfinished(stored.Status))
        {
            var cancelled = await BackgroundResponses.FinishUnfinishedAsync(store, stored, ResponseStatuses.Cancelled, null, context.RequestAborted).ConfigureAwait(false);
            _background.StopLocal(id);
            if (cancelled is not null)
            {
                await WriteJsonAsync(context, CapaJsonContext.ToWireBytes(cancelled, ResponsesJsonContext.Default.ResponseObject)).ConfigureAwait(false);
                return;
            }

            stored = await store.GetResponseAsync(id, context.RequestAborted).ConfigureAwait(false) ?? stored;
        }

        if (stored.Status != ResponseStatuses.Cancelled)
        {
            await RejectAsync(context, RequestIds.Get(context), ApiError.InvalidRequest($"Cannot cancel a response with status '{stored.Status}'.", null, "invalid_request")).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, Encoding.UTF8.GetBytes(stored.Json)).ConfigureAwait(false);
    }

    private static bool IsBackground(StoredResponse stored) =>
        JsonElement.Parse(stored.Json).TryGetProperty("background"u8, out var background) && background.ValueKind == JsonValueKind.True;

    /// <summary>
    /// Streams a background response's stored events after <paramref name="after"/>, following new ones as they are
    /// written, until the response is final and every event is sent (or the client leaves).
    /// </summary>
    private async Task ReplayAsync(HttpContext context, IResponseStore store, string id, long after)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Sse.ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var output = response.BodyWriter;
        try
        {
            var finished = false;
            while (true)
            {
                var events = await store.GetEventsAsync(id, after, aborted).ConfigureAwait(false);
                foreach (var item in events)
                {
                    using var document = JsonDocument.Parse(item.Json);
                    output.Write("event: "u8);
                    output.Write(Encoding.UTF8.GetBytes(document.RootElement.GetProperty("type").GetString() ?? "message"));
                    output.Write("\ndata: "u8);
                    output.Write(Encoding.UTF8.GetBytes(item.Json));
                    output.Write("\n\n"u8);
                    after = item.Sequence;
                }

                if (events.Count > 0)
                {
                    await output.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }

                if (finished)
                {
                    return;
                }

                // Final events are written before the final status: one more read after seeing it gets them all.
                var current = await store.GetResponseAsync(id, aborted).ConfigureAwait(false);
                finished = current is null || !ResponseStatuses.IsUnfinished(current.Status);
                if (!finished)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _time, aborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left; the response runs on.
        }
    }

    public async Task ListInputItemsAsync(HttpContext context, string id)
    {
        if (!TryReadItemQuery(context.Request.Query, out var query, out var invalid))
        {
            await RejectAsync(context, RequestIds.Get(context), invalid).ConfigureAwait(false);
            return;
        }

        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var page = await store.ListInputItemsAsync(id, query, context.RequestAborted).ConfigureAwait(false);
        if (page is null)
        {
            await RejectAsync(context, RequestIds.Get(context), ResponseNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, ToList(page)).ConfigureAwait(false);
    }

    /// <summary>Reads <c>limit</c> (1 to 100, default 20), <c>order</c> (<c>asc</c>/<c>desc</c>, default desc), <c>after</c>, <c>before</c>.</summary>
    internal static bool TryReadItemQuery(IQueryCollection query, out ItemQuery result, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ApiError? error)
    {
        result = new ItemQuery();
        error = null;
        if (query.TryGetValue("limit", out var limitText))
        {
            if (!int.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > 100)
            {
                error = ApiError.InvalidRequest($"Invalid 'limit': expected an integer between 1 and 100, but got '{limitText}' instead.", "limit", "invalid_value");
                return false;
            }

            result = result with { Limit = limit };
        }

        if (query.TryGetValue("order", out var order))
        {
            if (order != "asc" && order != "desc")
            {
                error = ApiError.InvalidRequest($"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.", "order", "invalid_value");
                return false;
            }

            result = result with { Descending = order == "desc" };
        }

        result = result with
        {
            After = query.TryGetValue("after", out var after) ? after.ToString() : null,
            Before = query.TryGetValue("before", out var before) ? before.ToString() : null,
        };
        return true;
    }

    internal static byte[] ToList(ItemPage page)
    {
        var data = page.Items.Select(i => JsonElement.Parse(i.Json)).ToList();
        return CapaJsonContext.ToWireBytes(
            new ResponseItemList { Data = data, FirstId = page.Items.FirstOrDefault()?.Id, LastId = page.Items.LastOrDefault()?.Id, HasMore = page.HasMore },
            ResponsesJsonContext.Default.ResponseItemList);
    }

    internal static ApiError ResponseNotFound(string id) =>
        new(404, $"Response with id '{Shorten(id)}' not found.", ApiError.InvalidRequestType);

    private async Task<(List<ResponseItem> History, ApiError? Missing)> LoadContextAsync(IResponseStore store, CreateResponseRequest request, CancellationToken cancellationToken)
    {
        var history = new List<ResponseItem>();
        if (request.PreviousResponseId is { } previous)
        {
            var chain = await store.GetChainAsync(previous, MaxChainDepth, cancellationToken).ConfigureAwait(false);
            if (chain.MissingId is { } missing)
            {
                return (history, new ApiError(404, $"Previous response with id '{Shorten(missing)}' not found.", ApiError.InvalidRequestType, "previous_response_id", "previous_response_not_found"));
            }

            foreach (var link in chain.Links)
            {
                history.AddRange(link.InputItems.Select(i => ParseItem(i.Json)));
                var response = JsonSerializer.Deserialize(link.Response.Json, ResponsesJsonContext.Default.ResponseObject);
                history.AddRange(response?.Output ?? []);
            }
        }
        else if (request.ConversationId is { } conversationId)
        {
            var items = await store.GetConversationItemsAsync(conversationId, cancellationToken).ConfigureAwait(false);
            if (items is null)
            {
                return (history, ConversationsEndpoint.ConversationNotFound(conversationId, "conversation"));
            }

            history.AddRange(items.Select(i => ParseItem(i.Json)));
        }

        return (history, null);
    }

    private static ResponseItem ParseItem(string json) =>
        JsonSerializer.Deserialize(json, ResponsesJsonContext.Default.ResponseItem) ?? throw new InvalidOperationException("A stored item is null.");

    private ResponseObject Initial(CreateResponseRequest request) => new()
    {
        Id = StoreIds.NewResponseId(),
        CreatedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
        Status = ResponseStatuses.InProgress,
        Background = request.Background,
        Instructions = request.Instructions,
        MaxOutputTokens = request.MaxOutputTokens,
        MaxToolCalls = request.MaxToolCalls,
        Model = request.Model,
        ParallelToolCalls = request.ParallelToolCalls,
        PreviousResponseId = request.PreviousResponseId,
        Conversation = request.ConversationId is { } conversation ? new ConversationReference { Id = conversation } : null,
        Reasoning = request.Reasoning ?? ResponseDefaults.NoReasoning,
        SafetyIdentifier = request.SafetyIdentifier,
        ServiceTier = request.ServiceTier ?? "default",
        Store = request.Store,
        Temperature = request.Temperature ?? 1,
        Text = request.Text,
        ToolChoice = request.ToolChoice,
        Tools = [.. request.Tools.Select(t => t.Raw), .. request.FileSearch is { } search ? [search.Raw] : Array.Empty<JsonElement>()],
        TopLogprobs = request.TopLogprobs ?? 0,
        TopP = request.TopP ?? 1,
        Truncation = request.Truncation,
        User = request.User,
        Metadata = request.Metadata,
        PromptCacheKey = request.PromptCacheKey,
    };

    private static ResponseItem WithId(ResponseItem item) => item.Id is not null ? item : item with
    {
        Id = item.Type switch
        {
            ResponseItemTypes.FunctionCall => StoreIds.NewFunctionCallId(),
            ResponseItemTypes.FunctionCallOutput => StoreIds.NewFunctionCallOutputId(),
            ResponseItemTypes.Reasoning => StoreIds.NewReasoningId(),
            _ => StoreIds.NewMessageId(),
        },
    };

    private async Task RunAsync(HttpContext context, IResponseStore store, CreateResponseRequest request, List<ResponseItem> input, ResponseChatAttempts attempts, ChatCall call, ResponseStreamBuilder builder)
    {
        var aborted = context.RequestAborted;
        IAsyncEnumerator<ChatStreamEvent> chunks;
        bool more;
        try
        {
            (chunks, more) = await attempts.OpenAsync(aborted).ConfigureAwait(false);
        }
        catch (ChatProviderException e)
        {
            await RejectAsync(context, call.RequestId, attempts.ToResponsesError(e.Error)).ConfigureAwait(false);
            return;
        }

        if (attempts.DroppedItems > 0)
        {
            ServerLog.ContextTruncated(_logger, call.RequestId, attempts.DroppedItems);
        }

        await using (chunks.ConfigureAwait(false))
        {
            PipeWriter? output = null;
            if (request.Stream)
            {
                var response = context.Response;
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = Sse.ContentType;
                response.Headers.CacheControl = "no-cache";
                response.Headers["X-Accel-Buffering"] = "no";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                output = response.BodyWriter;
            }

            await EmitAsync(output, builder.Start(), aborted).ConfigureAwait(false);
            try
            {
                while (more)
                {
                    await EmitAsync(output, builder.Add(ReadChunk(chunks.Current)), aborted).ConfigureAwait(false);
                    more = await chunks.MoveNextAsync().ConfigureAwait(false);
                }
            }
            catch (ChatProviderException e) when (!aborted.IsCancellationRequested)
            {
                ServerLog.StreamFailed(_logger, call.RequestId, e.Error.Status, e.Error.Message);
                var error = attempts.ToResponsesError(e.Error);
                var failed = builder.Fail(error);
                await SaveAsync(store, request, input, builder.Response, aborted).ConfigureAwait(false);
                if (output is null)
                {
                    await RejectAsync(context, call.RequestId, error).ConfigureAwait(false);
                    return;
                }

                await EmitAsync(output, failed, aborted).ConfigureAwait(false);
                return;
            }

            // Stored before the final event is sent, so a client that reads response.completed can fetch the response at once.
            var final = builder.Finish(_time.GetUtcNow().ToUnixTimeSeconds());
            await SaveAsync(store, request, input, builder.Response, aborted).ConfigureAwait(false);
            if (output is null)
            {
                await WriteJsonAsync(context, CapaJsonContext.ToWireBytes(builder.Response, ResponsesJsonContext.Default.ResponseObject)).ConfigureAwait(false);
                return;
            }

            await EmitAsync(output, final, aborted).ConfigureAwait(false);
        }
    }

    internal static ChatCompletionChunk ReadChunk(ChatStreamEvent item) =>
        item.Chunk ?? JsonSerializer.Deserialize(item.Data.Span, CapaJsonContext.Default.ChatCompletionChunk)
        ?? throw new ChatProviderException(ApiError.UpstreamUnavailable());

    private static async Task EmitAsync(PipeWriter? output, IReadOnlyList<ResponseStreamEvent> events, CancellationToken cancellationToken)
    {
        if (output is null || events.Count == 0)
        {
            return;
        }

        foreach (var item in events)
        {
            output.Write("event: "u8);
            output.Write(Encoding.UTF8.GetBytes(item.Type));
            output.Write("\ndata: "u8);
            output.Write(CapaJsonContext.ToWireBytes(item, ResponsesJsonContext.Default.ResponseStreamEvent));
            output.Write("\n\n"u8);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task SaveAsync(IResponseStore store, CreateResponseRequest request, List<ResponseItem> input, ResponseObject response, CancellationToken cancellationToken)
    {
        var inputItems = input.Select(ToStored).ToList();
        var conversationItems = request.ConversationId is null ? null : inputItems.Concat(response.Output.Select(ToStored)).ToList();
        if (!request.Store)
        {
            if (conversationItems is not null)
            {
                await store.AppendConversationItemsAsync(request.ConversationId!, conversationItems, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var stored = new StoredResponse
        {
            Id = response.Id,
            CreatedAt = response.CreatedAt,
            Status = response.Status,
            PreviousResponseId = response.PreviousResponseId,
            ConversationId = request.ConversationId,
            Json = Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(response, ResponsesJsonContext.Default.ResponseObject)),
        };
        await store.CreateResponseAsync(stored, inputItems, conversationItems, cancellationToken).ConfigureAwait(false);
    }

    internal static StoredItem ToStored(ResponseItem item) =>
        new(item.Id!, Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(item, ResponsesJsonContext.Default.ResponseItem)));

    internal static async Task WriteJsonAsync(HttpContext context, ReadOnlyMemory<byte> json)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    private static string Shorten(string id) => id.Length > 128 ? id[..128] + "..." : id;

    private Task RejectAsync(HttpContext context, string requestId, ApiError error)
    {
        ServerLog.Rejected(_logger, requestId, error.Status, error.Code);
        return ErrorWriter.WriteAsync(context, error);
    }

    public void Dispose() => _inputFiles.Dispose();
}
