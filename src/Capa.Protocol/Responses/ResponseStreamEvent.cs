using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Responses;

/// <summary>Stream event types, in the order a response emits them.</summary>
public static class ResponseEventTypes
{
    /// <summary><c>response.created</c>.</summary>
    public const string Created = "response.created";

    /// <summary><c>response.queued</c>.</summary>
    public const string Queued = "response.queued";

    /// <summary><c>response.in_progress</c>.</summary>
    public const string InProgress = "response.in_progress";

    /// <summary><c>response.output_item.added</c>.</summary>
    public const string OutputItemAdded = "response.output_item.added";

    /// <summary><c>response.content_part.added</c>.</summary>
    public const string ContentPartAdded = "response.content_part.added";

    /// <summary><c>response.output_text.delta</c>.</summary>
    public const string OutputTextDelta = "response.output_text.delta";

    /// <summary><c>response.output_text.done</c>.</summary>
    public const string OutputTextDone = "response.output_text.done";

    /// <summary><c>response.content_part.done</c>.</summary>
    public const string ContentPartDone = "response.content_part.done";

    /// <summary><c>response.function_call_arguments.delta</c>.</summary>
    public const string FunctionCallArgumentsDelta = "response.function_call_arguments.delta";

    /// <summary><c>response.function_call_arguments.done</c>.</summary>
    public const string FunctionCallArgumentsDone = "response.function_call_arguments.done";

    /// <summary><c>response.output_item.done</c>.</summary>
    public const string OutputItemDone = "response.output_item.done";

    /// <summary><c>response.completed</c>.</summary>
    public const string Completed = "response.completed";

    /// <summary><c>response.incomplete</c>.</summary>
    public const string Incomplete = "response.incomplete";

    /// <summary><c>response.failed</c>.</summary>
    public const string Failed = "response.failed";

    /// <summary><c>error</c>.</summary>
    public const string Error = "error";

    /// <summary><c>response.file_search_call.in_progress</c>.</summary>
    public const string FileSearchCallInProgress = "response.file_search_call.in_progress";

    /// <summary><c>response.file_search_call.searching</c>.</summary>
    public const string FileSearchCallSearching = "response.file_search_call.searching";

    /// <summary><c>response.file_search_call.completed</c>.</summary>
    public const string FileSearchCallCompleted = "response.file_search_call.completed";

    /// <summary><c>response.output_text.annotation.added</c>.</summary>
    public const string OutputTextAnnotationAdded = "response.output_text.annotation.added";
}

/// <summary>
/// One server-sent event of a streamed response (the <c>ResponseStreamEvent</c> family). The members of its
/// <see cref="Type"/> are set; the others are omitted.
/// </summary>
public sealed record ResponseStreamEvent
{
    /// <summary>One of <see cref="ResponseEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The event's position in the stream, from 0.</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The response, for lifecycle events.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ResponseObject? Response { get; init; }

    /// <summary>The output item's index.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? OutputIndex { get; init; }

    /// <summary>The output item's id.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ItemId { get; init; }

    /// <summary>The content part's index.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ContentIndex { get; init; }

    /// <summary>The item, for <c>output_item.*</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ResponseItem? Item { get; init; }

    /// <summary>The annotation's position in the part, for <c>output_text.annotation.added</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? AnnotationIndex { get; init; }

    /// <summary>The annotation, for <c>output_text.annotation.added</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Annotation { get; init; }

    /// <summary>The part, for <c>content_part.*</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ResponseContentPart? Part { get; init; }

    /// <summary>The text or arguments added, for <c>*.delta</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Delta { get; init; }

    /// <summary>The whole text, for <c>output_text.done</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    /// <summary>The function name, for <c>function_call_arguments.done</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>The whole arguments, for <c>function_call_arguments.done</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Arguments { get; init; }

    /// <summary>Log probabilities, for <c>output_text.delta</c> and <c>.done</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<JsonElement>? Logprobs { get; init; }

    /// <summary>The error code, for <c>error</c> (a JSON string or null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Code { get; init; }

    /// <summary>The error message, for <c>error</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    /// <summary>The parameter at fault, for <c>error</c> (a JSON string or null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Param { get; init; }

    /// <summary>An <c>error</c> event.</summary>
    public static ResponseStreamEvent FromError(long sequence, ApiError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ResponseStreamEvent
        {
            Type = ResponseEventTypes.Error,
            SequenceNumber = sequence,
            Code = JsonSerializer.SerializeToElement(error.Code ?? error.Type, ResponsesJsonContext.Default.String),
            Message = error.Message,
            Param = JsonSerializer.SerializeToElement(error.Param, ResponsesJsonContext.Default.String),
        };
    }
}
