using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Protocol.Files;
using Capa.Server.Files;
using Capa.Server.VectorStores;
using Capa.Storage;
using static Capa.Server.Assistants.AssistantsHttp;

namespace Capa.Server.Assistants;

/// <summary>A message to add to a thread, with the parameter naming it in errors (<c>messages[0].</c>, or empty for a body).</summary>
/// <param name="Message">The message.</param>
/// <param name="Prefix">The prefix of its members' parameter names.</param>
internal sealed record AttachingMessage(MessageRequest Message, string Prefix);

/// <summary>
/// Files attached to messages, as OpenAI handles them: every file must exist (404 naming the first that does not), and
/// the files attached for <c>file_search</c> go into the thread's vector store, which is made when the thread has none
/// (expiring 7 days after its last use) and recorded in the thread's <c>tool_resources.file_search.vector_store_ids</c>.
/// Ingestion runs in the background; a run waits for it before searching.
/// </summary>
internal sealed class MessageAttachments(FileService? files = null, VectorStoreService? vectorStores = null)
{
    /// <summary>Whether any of the messages attaches a file.</summary>
    public static bool Any(IEnumerable<AttachingMessage> messages) => messages.Any(m => m.Message.Attachments.Count > 0);

    /// <summary>The error for the first attached file that does not exist or cannot be used, or null.</summary>
    public async Task<ApiError?> CheckAsync(IReadOnlyList<AttachingMessage> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        foreach (var (message, prefix) in messages)
        {
            for (var i = 0; i < message.Attachments.Count; i++)
            {
                var attachment = message.Attachments[i];
                var param = $"{prefix}attachments[{i}].file_id";
                var fileId = attachment.GetProperty("file_id"u8).GetString()!;
                if (files is null)
                {
                    return ApiError.InvalidRequest("This server does not store files, so a message cannot attach one.", param, "unsupported_value");
                }

                if (await files.FindAsync(fileId, cancellationToken).ConfigureAwait(false) is null)
                {
                    return FileUploadReader.NotFound(fileId, param);
                }

                if (AssistantRequestReader.IsForFileSearch(attachment) && vectorStores is null)
                {
                    return ApiError.InvalidRequest(
                        "Files attached for 'file_search' go into a vector store, which this server keeps only with a state store: attach them without tools, or send their text in the message.",
                        $"{prefix}attachments[{i}].tools",
                        "unsupported_value");
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Adds the messages' <c>file_search</c> files to the thread's vector store (made when the thread has none) and
    /// returns the thread's tool resources naming it; the resources are returned unchanged when nothing is attached for
    /// file search. Call <see cref="CheckAsync"/> first.
    /// </summary>
    public async Task<(JsonElement ToolResources, ApiError? Error)> AddToThreadAsync(JsonElement toolResources, IEnumerable<MessageRequest> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var fileIds = messages
            .SelectMany(m => m.Attachments)
            .Where(AssistantRequestReader.IsForFileSearch)
            .Select(a => a.GetProperty("file_id"u8).GetString()!)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (fileIds.Count == 0 || vectorStores is null)
        {
            return (toolResources, null);
        }

        var current = RunExecutor.VectorStoreIds(toolResources).FirstOrDefault();
        var (id, error) = await vectorStores.AddToThreadStoreAsync(current, fileIds, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return (toolResources, error);
        }

        return id == current ? (toolResources, null) : (WithVectorStore(toolResources, id!), null);
    }

    /// <summary>
    /// Adds the messages' <c>file_search</c> files to the vector store of a thread already stored, and returns the
    /// thread's tool resources as they now are. When the thread has no store (or its store is gone), one is made and
    /// recorded in the thread by a compare-and-set on the stored thread: of two requests attaching at once, one records
    /// its store, the other deletes its own and uses that one, so a thread never ends up with a store that lost files.
    /// The thread is written here when its resources change; callers must not write the thread they read.
    /// </summary>
    public async Task<(JsonElement ToolResources, ApiError? Error)> AddToStoredThreadAsync(IAssistantStore store, StoredAssistantObject thread, IEnumerable<MessageRequest> messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(messages);
        var fileIds = FileSearchIds(messages);
        var current = Parse(thread, AssistantsJsonContext.Default.ThreadObject);
        if (fileIds.Count == 0 || vectorStores is null)
        {
            return (current.ToolResources, null);
        }

        for (var attempt = 0; attempt < 16; attempt++)
        {
            if (RunExecutor.VectorStoreIds(current.ToolResources).FirstOrDefault() is { } existing
                && await vectorStores.ExistsAsync(existing, cancellationToken).ConfigureAwait(false))
            {
                var (_, addError) = await vectorStores.AddToThreadStoreAsync(existing, fileIds, cancellationToken).ConfigureAwait(false);
                return (current.ToolResources, addError);
            }

            var (created, createError) = await vectorStores.CreateThreadStoreAsync(cancellationToken).ConfigureAwait(false);
            if (createError is not null)
            {
                return (current.ToolResources, createError);
            }

            var updated = current with { ToolResources = WithVectorStore(current.ToolResources, created!) };
            if (await store.WriteAsync(new AssistantWrite { Guard = Stored(updated), GuardJson = thread.Json }, cancellationToken).ConfigureAwait(false))
            {
                var (_, addError) = await vectorStores.AddToThreadStoreAsync(created, fileIds, cancellationToken).ConfigureAwait(false);
                return (updated.ToolResources, addError);
            }

            // Another request changed the thread first (most likely giving it a store): drop ours and read it again.
            await vectorStores.DeleteAsync(created!, cancellationToken).ConfigureAwait(false);
            if (await store.GetObjectAsync(AssistantObjectKinds.Thread, thread.Id, null, cancellationToken).ConfigureAwait(false) is not { } reread)
            {
                return (current.ToolResources, NotFound("thread", thread.Id));
            }

            thread = reread;
            current = Parse(thread, AssistantsJsonContext.Default.ThreadObject);
        }

        return (current.ToolResources, ApiError.InvalidRequest($"The thread '{thread.Id}' is changing; try again.", null));
    }

    private static List<string> FileSearchIds(IEnumerable<MessageRequest> messages) => messages
        .SelectMany(m => m.Attachments)
        .Where(AssistantRequestReader.IsForFileSearch)
        .Select(a => a.GetProperty("file_id"u8).GetString()!)
        .Distinct(StringComparer.Ordinal)
        .ToList();

    /// <summary>The tool resources with <c>file_search.vector_store_ids</c> set to <paramref name="vectorStoreId"/> alone.</summary>
    private static JsonElement WithVectorStore(JsonElement toolResources, string vectorStoreId)
    {
        var node = toolResources.ValueKind == JsonValueKind.Object ? JsonNode.Parse(toolResources.GetRawText())!.AsObject() : new JsonObject();
        if (node["file_search"] is not JsonObject search)
        {
            search = new JsonObject();
            node["file_search"] = search;
        }

        search["vector_store_ids"] = new JsonArray(vectorStoreId);
        return JsonElement.Parse(node.ToJsonString());
    }
}
