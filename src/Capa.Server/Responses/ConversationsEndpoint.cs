using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Storage;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Responses;

/// <summary><c>/v1/conversations</c>: create (metadata, up to 20 items), read, update metadata, delete, and items.</summary>
internal sealed class ConversationsEndpoint
{
    /// <summary>The most items one create or append request may carry.</summary>
    public const int MaxItemsPerRequest = 20;

    private readonly ServerSettings _settings;
    private readonly ChatRequestLimits _limits;
    private readonly ResponseStoreAccessor _stores;
    private readonly TimeProvider _time;

    public ConversationsEndpoint(ServerSettings settings, ResponseStoreAccessor stores, TimeProvider time)
    {
        _settings = settings;
        _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };
        _stores = stores;
        _time = time;
    }

    internal static ApiError ConversationNotFound(string id, string? param = null) =>
        new(404, $"Conversation with id '{(id.Length > 128 ? id[..128] + "..." : id)}' not found.", ApiError.InvalidRequestType, param);

    public async Task CreateAsync(HttpContext context)
    {
        var root = await ReadBodyAsync(context).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        if (!TryRead(context, root.Value, allowItems: true, out var metadata, out var items, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var conversation = new StoredConversation
        {
            Id = StoreIds.NewConversationId(),
            CreatedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
            MetadataJson = JsonSerializer.Serialize(metadata ?? ResponseDefaults.EmptyMetadata, ResponsesJsonContext.Default.IReadOnlyDictionaryStringString),
        };
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        await store.CreateConversationAsync(conversation, items ?? [], context.RequestAborted).ConfigureAwait(false);
        await WriteConversationAsync(context, conversation).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string id)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var conversation = await store.GetConversationAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (conversation is null)
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteConversationAsync(context, conversation).ConfigureAwait(false);
    }

    public async Task UpdateAsync(HttpContext context, string id)
    {
        var root = await ReadBodyAsync(context).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        if (!TryRead(context, root.Value, allowItems: false, out var metadata, out _, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (metadata is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Missing required parameter: 'metadata'.", "metadata", "missing_required_parameter")).ConfigureAwait(false);
            return;
        }

        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var updated = await store.UpdateConversationAsync(id, JsonSerializer.Serialize(metadata, ResponsesJsonContext.Default.IReadOnlyDictionaryStringString), context.RequestAborted).ConfigureAwait(false);
        if (updated is null)
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteConversationAsync(context, updated).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, string id)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        if (!await store.DeleteConversationAsync(id, context.RequestAborted).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        await ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(new DeletedObject { Id = id, Object = "conversation.deleted" }, ResponsesJsonContext.Default.DeletedObject)).ConfigureAwait(false);
    }

    public async Task AddItemsAsync(HttpContext context, string id)
    {
        var root = await ReadBodyAsync(context).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        if (!TryRead(context, root.Value, allowItems: true, out _, out var items, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (items is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Missing required parameter: 'items'.", "items", "missing_required_parameter")).ConfigureAwait(false);
            return;
        }

        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        if (!await store.AppendConversationItemsAsync(id, items, context.RequestAborted).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        await ResponsesEndpoint.WriteJsonAsync(context, ResponsesEndpoint.ToList(new ItemPage(items, false))).ConfigureAwait(false);
    }

    public async Task ListItemsAsync(HttpContext context, string id)
    {
        if (!ResponsesEndpoint.TryReadItemQuery(context.Request.Query, out var query, out var invalid))
        {
            await ErrorWriter.WriteAsync(context, invalid).ConfigureAwait(false);
            return;
        }

        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var page = await store.ListConversationItemsAsync(id, query, context.RequestAborted).ConfigureAwait(false);
        if (page is null)
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        await ResponsesEndpoint.WriteJsonAsync(context, ResponsesEndpoint.ToList(page)).ConfigureAwait(false);
    }

    public async Task GetItemAsync(HttpContext context, string id, string itemId)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        if (await store.GetConversationAsync(id, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        var item = await store.GetConversationItemAsync(id, itemId, context.RequestAborted).ConfigureAwait(false);
        if (item is null)
        {
            await ErrorWriter.WriteAsync(context, ItemNotFound(itemId)).ConfigureAwait(false);
            return;
        }

        await ResponsesEndpoint.WriteJsonAsync(context, Encoding.UTF8.GetBytes(item.Json)).ConfigureAwait(false);
    }

    public async Task DeleteItemAsync(HttpContext context, string id, string itemId)
    {
        var store = await _stores.GetAsync(context.RequestAborted).ConfigureAwait(false);
        var conversation = await store.GetConversationAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (conversation is null)
        {
            await ErrorWriter.WriteAsync(context, ConversationNotFound(id)).ConfigureAwait(false);
            return;
        }

        if (!await store.DeleteConversationItemAsync(id, itemId, context.RequestAborted).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, ItemNotFound(itemId)).ConfigureAwait(false);
            return;
        }

        // OpenAI answers an item delete with the conversation it was removed from.
        await WriteConversationAsync(context, conversation).ConfigureAwait(false);
    }

    private static ApiError ItemNotFound(string id) =>
        new(404, $"Item with id '{(id.Length > 128 ? id[..128] + "..." : id)}' not found.", ApiError.InvalidRequestType);

    private async Task<JsonElement?> ReadBodyAsync(HttpContext context)
    {
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            await ErrorWriter.WriteAsync(context, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return null;
        }

        using var body = await BoundedBodyReader.ReadAsync(context.Request, _settings.MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
            return null;
        }

        if (!ResponseRequestReader.TryParseObject(body.Memory.Span, _limits, out var root, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return null;
        }

        return root;
    }

    private bool TryRead(HttpContext context, JsonElement root, bool allowItems, out IReadOnlyDictionary<string, string>? metadata, out List<StoredItem>? items, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ApiError? error)
    {
        _ = context;
        items = null;
        if (!ConversationRequestReader.TryRead(root, _limits, allowItems, out metadata, out var parsed, out error))
        {
            return false;
        }

        items = parsed?.Select(item => ResponsesEndpoint.ToStored(item.Id is null ? item with { Id = NewId(item.Type) } : item)).ToList();
        return true;
    }

    private static string NewId(string type) => type switch
    {
        ResponseItemTypes.FunctionCall => StoreIds.NewFunctionCallId(),
        ResponseItemTypes.FunctionCallOutput => StoreIds.NewFunctionCallOutputId(),
        ResponseItemTypes.Reasoning => StoreIds.NewReasoningId(),
        _ => StoreIds.NewMessageId(),
    };

    private static Task WriteConversationAsync(HttpContext context, StoredConversation conversation)
    {
        var metadata = JsonSerializer.Deserialize(conversation.MetadataJson, ResponsesJsonContext.Default.IReadOnlyDictionaryStringString) ?? ResponseDefaults.EmptyMetadata;
        return ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(
            new ConversationObject { Id = conversation.Id, CreatedAt = conversation.CreatedAt, Metadata = metadata },
            ResponsesJsonContext.Default.ConversationObject));
    }
}
