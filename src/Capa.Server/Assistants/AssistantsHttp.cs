using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Hosting;
using Capa.Server.Limits;
using Capa.Server.Responses;
using Capa.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Assistants;

/// <summary>What the Assistants endpoints share: bodies, JSON answers, errors, stored objects.</summary>
internal static class AssistantsHttp
{
    /// <summary>Reads a JSON body within the server's limit, or writes the error and returns null.</summary>
    public static async Task<byte[]?> ReadBodyAsync(HttpContext context, ServerSettings settings, ILogger logger, bool allowEmpty = false)
    {
        var request = context.Request;
        var json = ChatCompletionsEndpoint.IsJson(request.ContentType);
        if (!json && !(allowEmpty && string.IsNullOrEmpty(request.ContentType)))
        {
            await RejectAsync(context, logger, ApiError.UnsupportedMediaType(request.ContentType)).ConfigureAwait(false);
            return null;
        }

        using var body = await BoundedBodyReader.ReadAsync(request, settings.MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await RejectAsync(context, logger, ApiError.PayloadTooLarge(settings.MaxBodyBytes)).ConfigureAwait(false);
            return null;
        }

        if (!json && body.Memory.Length > 0)
        {
            await RejectAsync(context, logger, ApiError.UnsupportedMediaType(request.ContentType)).ConfigureAwait(false);
            return null;
        }

        return body.Memory.ToArray();
    }

    public static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type) =>
        ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(value, type));

    public static Task WriteStoredAsync(HttpContext context, StoredAssistantObject stored) =>
        ResponsesEndpoint.WriteJsonAsync(context, Encoding.UTF8.GetBytes(stored.Json));

    public static Task WriteListAsync(HttpContext context, ItemPage page) => WriteAsync(
        context,
        new AssistantList
        {
            Data = page.Items.Select(i => JsonElement.Parse(i.Json)).ToList(),
            FirstId = page.Items.FirstOrDefault()?.Id,
            LastId = page.Items.LastOrDefault()?.Id,
            HasMore = page.HasMore,
        },
        AssistantsJsonContext.Default.AssistantList);

    public static Task RejectAsync(HttpContext context, ILogger logger, ApiError error)
    {
        ServerLog.Rejected(logger, RequestIds.Get(context), error.Status, error.Code);
        return ErrorWriter.WriteAsync(context, error);
    }

    /// <summary>OpenAI's 404 for an unknown object: "No assistant found with id 'asst_x'."</summary>
    public static ApiError NotFound(string what, string id) =>
        new(404, $"No {what} found with id '{(id.Length > 128 ? id[..128] + "..." : id)}'.", ApiError.InvalidRequestType);

    /// <summary>Reads <c>limit</c>, <c>order</c>, <c>after</c>, <c>before</c> as every list endpoint takes them.</summary>
    public static bool TryReadQuery(HttpContext context, out ItemQuery query, [NotNullWhen(false)] out ApiError? error) =>
        ResponsesEndpoint.TryReadItemQuery(context.Request.Query, out query, out error);

    public static T Parse<T>(StoredAssistantObject stored, JsonTypeInfo<T> type) =>
        JsonSerializer.Deserialize(stored.Json, type) ?? throw new InvalidOperationException($"The stored object '{stored.Id}' is null.");

    public static string Json<T>(T value, JsonTypeInfo<T> type) => Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(value, type));

    public static StoredAssistantObject Stored(AssistantObject assistant) => new()
    {
        Id = assistant.Id, Kind = AssistantObjectKinds.Assistant, CreatedAt = assistant.CreatedAt, Json = Json(assistant, AssistantsJsonContext.Default.AssistantObject),
    };

    public static StoredAssistantObject Stored(ThreadObject thread) => new()
    {
        Id = thread.Id, Kind = AssistantObjectKinds.Thread, CreatedAt = thread.CreatedAt, Json = Json(thread, AssistantsJsonContext.Default.ThreadObject),
    };

    public static StoredAssistantObject Stored(MessageObject message) => new()
    {
        Id = message.Id, Kind = AssistantObjectKinds.Message, ParentId = message.ThreadId, CreatedAt = message.CreatedAt, Status = message.Status,
        Json = Json(message, AssistantsJsonContext.Default.MessageObject),
    };

    public static StoredAssistantObject Stored(RunObject run, string? owner, long? lease) => new()
    {
        Id = run.Id, Kind = AssistantObjectKinds.Run, ParentId = run.ThreadId, CreatedAt = run.CreatedAt, Status = run.Status, Owner = owner, LeaseExpiresAt = lease,
        Json = Json(run, AssistantsJsonContext.Default.RunObject),
    };

    public static StoredAssistantObject Stored(RunStepObject step) => new()
    {
        Id = step.Id, Kind = AssistantObjectKinds.RunStep, ParentId = step.RunId, CreatedAt = step.CreatedAt, Status = step.Status,
        Json = Json(step, AssistantsJsonContext.Default.RunStepObject),
    };

    /// <summary>A new message from a request.</summary>
    public static MessageObject NewMessage(MessageRequest request, string threadId, long now) => new()
    {
        Id = StoreIds.NewMessageId(),
        CreatedAt = now,
        ThreadId = threadId,
        Role = request.Role,
        Content = request.Content,
        Attachments = request.Attachments,
        Metadata = request.Metadata,
        Status = "completed",
        CompletedAt = now,
    };

    /// <summary>A new thread from a request, with its messages.</summary>
    public static (ThreadObject Thread, List<MessageObject> Messages) NewThread(ThreadRequest request, long now)
    {
        var thread = new ThreadObject { Id = StoreIds.New("thread_"), CreatedAt = now, ToolResources = request.ToolResources, Metadata = request.Metadata };
        return (thread, request.Messages.Select(m => NewMessage(m, thread.Id, now)).ToList());
    }
}
