using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Server.Configuration;
using Capa.Server.Responses;
using Capa.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Capa.Server.Assistants.AssistantsHttp;

namespace Capa.Server.Assistants;

/// <summary>
/// <c>/v1/assistants</c>, <c>/v1/threads</c> and <c>/v1/threads/{id}/messages</c> of the Assistants API (v2), stored
/// with responses and conversations. An assistant's model, tools and format are checked the way a run will use them,
/// so a bad assistant is refused when created, not when run.
/// </summary>
internal sealed class AssistantsEndpoint(ServerSettings settings, ResponseStoreAccessor stores, RunPlanner planner, MessageAttachments attachments, TimeProvider time, ILogger<AssistantsEndpoint> logger)
{
    private readonly ChatRequestLimits _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    private async Task<IAssistantStore> StoreAsync(HttpContext context) => (await stores.GetAsync(context.RequestAborted).ConfigureAwait(false)).Assistants;

    public async Task CreateAssistantAsync(HttpContext context)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadAssistant(body, _limits, modify: false, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var assistant = new AssistantObject
        {
            Id = StoreIds.New("asst_"),
            CreatedAt = Now,
            Model = request.Model!,
            Name = request.Name,
            Description = request.Description,
            Instructions = request.Instructions,
            Tools = request.Tools,
            ToolResources = request.ToolResources,
            Metadata = request.Metadata,
            Temperature = request.Temperature,
            TopP = request.TopP,
            ResponseFormat = request.ResponseFormat,
        };
        if (await planner.ValidateAsync(assistant.Model, assistant.Tools, assistant.ResponseFormat, AssistantDefaults.Auto, context.RequestAborted).ConfigureAwait(false) is { } invalid)
        {
            await RejectAsync(context, logger, invalid).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        await store.WriteAsync(new AssistantWrite { Objects = [Stored(assistant)] }, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, assistant, AssistantsJsonContext.Default.AssistantObject).ConfigureAwait(false);
    }

    public async Task ListAsync(HttpContext context, string kind, string? parentKind = null, string? parentId = null)
    {
        if (!TryReadQuery(context, out var query, out var invalid))
        {
            await RejectAsync(context, logger, invalid).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        if (parentKind is not null && await store.GetObjectAsync(parentKind, parentId!, null, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await RejectAsync(context, logger, NotFound(parentKind, parentId!)).ConfigureAwait(false);
            return;
        }

        await WriteListAsync(context, await store.ListObjectsAsync(kind, parentId, query, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string kind, string id, string? threadId = null)
    {
        var store = await StoreAsync(context).ConfigureAwait(false);
        if (threadId is not null && await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
            return;
        }

        var stored = await store.GetObjectAsync(kind, id, threadId, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, logger, NotFound(kind, id)).ConfigureAwait(false);
            return;
        }

        await WriteStoredAsync(context, stored).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, string kind, string id, string deletedObject, string? threadId = null)
    {
        var store = await StoreAsync(context).ConfigureAwait(false);
        if (threadId is not null && await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
            return;
        }

        if (!await store.DeleteObjectAsync(kind, id, threadId, context.RequestAborted).ConfigureAwait(false))
        {
            await RejectAsync(context, logger, NotFound(kind, id)).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, new AssistantDeleted { Id = id, Object = deletedObject }, AssistantsJsonContext.Default.AssistantDeleted).ConfigureAwait(false);
    }

    public async Task ModifyAssistantAsync(HttpContext context, string id)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadAssistant(body, _limits, modify: true, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        var stored = await store.GetObjectAsync(AssistantObjectKinds.Assistant, id, null, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, logger, NotFound("assistant", id)).ConfigureAwait(false);
            return;
        }

        var old = Parse(stored, AssistantsJsonContext.Default.AssistantObject);
        bool Has(string name) => request.Present.Contains(name);
        var assistant = old with
        {
            Model = Has("model") ? request.Model! : old.Model,
            Name = Has("name") ? request.Name : old.Name,
            Description = Has("description") ? request.Description : old.Description,
            Instructions = Has("instructions") ? request.Instructions : old.Instructions,
            Tools = Has("tools") ? request.Tools : old.Tools,
            ToolResources = Has("tool_resources") ? request.ToolResources : old.ToolResources,
            Metadata = Has("metadata") ? request.Metadata : old.Metadata,
            Temperature = Has("temperature") ? request.Temperature : old.Temperature,
            TopP = Has("top_p") ? request.TopP : old.TopP,
            ResponseFormat = Has("response_format") ? request.ResponseFormat : old.ResponseFormat,
        };
        if (await planner.ValidateAsync(assistant.Model, assistant.Tools, assistant.ResponseFormat, AssistantDefaults.Auto, context.RequestAborted).ConfigureAwait(false) is { } invalid)
        {
            await RejectAsync(context, logger, invalid).ConfigureAwait(false);
            return;
        }

        await store.WriteAsync(new AssistantWrite { Objects = [Stored(assistant)] }, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, assistant, AssistantsJsonContext.Default.AssistantObject).ConfigureAwait(false);
    }

    public async Task CreateThreadAsync(HttpContext context)
    {
        if (await ReadBodyAsync(context, settings, logger, allowEmpty: true).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadThread(body, _limits, modify: false, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var attaching = request.Messages.Select((m, i) => new AttachingMessage(m, $"messages[{i}].")).ToList();
        if (await attachments.CheckAsync(attaching, context.RequestAborted).ConfigureAwait(false) is { } missing)
        {
            await RejectAsync(context, logger, missing).ConfigureAwait(false);
            return;
        }

        var (resources, attachError) = await attachments.AddToThreadAsync(request.ToolResources, request.Messages, context.RequestAborted).ConfigureAwait(false);
        if (attachError is not null)
        {
            await RejectAsync(context, logger, attachError).ConfigureAwait(false);
            return;
        }

        var (thread, messages) = NewThread(request with { ToolResources = resources }, Now);
        var store = await StoreAsync(context).ConfigureAwait(false);
        await store.WriteAsync(new AssistantWrite { Objects = [Stored(thread), .. messages.Select(Stored)] }, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, thread, AssistantsJsonContext.Default.ThreadObject).ConfigureAwait(false);
    }

    public async Task ModifyThreadAsync(HttpContext context, string id)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadThread(body, _limits, modify: true, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        var stored = await store.GetObjectAsync(AssistantObjectKinds.Thread, id, null, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, logger, NotFound("thread", id)).ConfigureAwait(false);
            return;
        }

        var old = Parse(stored, AssistantsJsonContext.Default.ThreadObject);
        var thread = old with
        {
            ToolResources = request.Present.Contains("tool_resources") ? request.ToolResources : old.ToolResources,
            Metadata = request.Present.Contains("metadata") ? request.Metadata : old.Metadata,
        };
        await store.WriteAsync(new AssistantWrite { Objects = [Stored(thread)] }, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, thread, AssistantsJsonContext.Default.ThreadObject).ConfigureAwait(false);
    }

    public async Task CreateMessageAsync(HttpContext context, string threadId)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadMessage(body, _limits, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        if (await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, context.RequestAborted).ConfigureAwait(false) is not { } storedThread)
        {
            await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
            return;
        }

        if (await ActiveRunAsync(store, threadId, context.RequestAborted).ConfigureAwait(false) is { } active)
        {
            await RejectAsync(context, logger, ApiError.InvalidRequest($"Can't add messages to {threadId} while a run {active} is active.", null)).ConfigureAwait(false);
            return;
        }

        if (await attachments.CheckAsync([new AttachingMessage(request, "")], context.RequestAborted).ConfigureAwait(false) is { } missing)
        {
            await RejectAsync(context, logger, missing).ConfigureAwait(false);
            return;
        }

        // The thread itself is written there, by a compare-and-set, when it needs a vector store.
        var (_, attachError) = await attachments.AddToStoredThreadAsync(store, storedThread, [request], context.RequestAborted).ConfigureAwait(false);
        if (attachError is not null)
        {
            await RejectAsync(context, logger, attachError).ConfigureAwait(false);
            return;
        }

        var message = NewMessage(request, threadId, Now);
        await store.WriteAsync(new AssistantWrite { Objects = [Stored(message)] }, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, message, AssistantsJsonContext.Default.MessageObject).ConfigureAwait(false);
    }

    public async Task ModifyMetadataAsync(HttpContext context, string kind, string id, string threadId)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadMetadata(body, _limits, out var metadata, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        if (await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
            return;
        }

        for (var attempt = 0; attempt < 8; attempt++)
        {
            var stored = await store.GetObjectAsync(kind, id, threadId, context.RequestAborted).ConfigureAwait(false);
            if (stored is null)
            {
                await RejectAsync(context, logger, NotFound(kind, id)).ConfigureAwait(false);
                return;
            }

            // Guarded on the status read, so a run that changes meanwhile is not overwritten with its old state.
            var updated = stored with { Json = WithMetadata(stored.Json, metadata) };
            if (await store.WriteAsync(new AssistantWrite { Guard = updated, GuardStatuses = stored.Status is { } status ? [status] : [] }, context.RequestAborted).ConfigureAwait(false))
            {
                await WriteStoredAsync(context, updated).ConfigureAwait(false);
                return;
            }
        }

        await RejectAsync(context, logger, ApiError.InvalidRequest($"The {kind} '{id}' is changing; try again.", null)).ConfigureAwait(false);
    }

    /// <summary>The id of a run on the thread that is not final, or null.</summary>
    public static async Task<string?> ActiveRunAsync(IAssistantStore store, string threadId, CancellationToken cancellationToken)
    {
        var runs = await store.GetChildrenAsync(AssistantObjectKinds.Run, threadId, cancellationToken).ConfigureAwait(false);
        return runs.LastOrDefault(r => r.Status is { } status && !RunStatuses.IsFinal(status))?.Id;
    }

    private static string WithMetadata(string json, IReadOnlyDictionary<string, string> metadata)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        var replacement = new System.Text.Json.Nodes.JsonObject();
        foreach (var (key, value) in metadata)
        {
            replacement[key] = value;
        }

        node["metadata"] = replacement;
        return node.ToJsonString(new JsonSerializerOptions { Encoder = CapaJsonContext.WireEncoder });
    }
}
