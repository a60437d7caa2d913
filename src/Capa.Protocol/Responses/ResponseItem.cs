using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.Responses;

/// <summary>Item types of the Responses API that Capa reads and writes.</summary>
public static class ResponseItemTypes
{
    /// <summary><c>message</c>.</summary>
    public const string Message = "message";

    /// <summary><c>function_call</c>.</summary>
    public const string FunctionCall = "function_call";

    /// <summary><c>function_call_output</c>.</summary>
    public const string FunctionCallOutput = "function_call_output";

    /// <summary><c>reasoning</c>.</summary>
    public const string Reasoning = "reasoning";

    /// <summary>A file search the server ran.</summary>
    public const string FileSearchCall = "file_search_call";
}

/// <summary>
/// One item of a response's input or output, or of a conversation: a message, a function call, a function call's
/// output or a reasoning item. The members of its <see cref="Type"/> are set; the others are omitted.
/// </summary>
public sealed record ResponseItem
{
    /// <summary>The item id (<c>msg_...</c>, <c>fc_...</c>, ...).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Id { get; init; }

    /// <summary>One of <see cref="ResponseItemTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary><c>in_progress</c>, <c>completed</c> or <c>incomplete</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Status { get; init; }

    /// <summary>Arguments of a function call (JSON text).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Arguments { get; init; }

    /// <summary>The call id of a function call or its output.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CallId { get; init; }

    /// <summary>The function name of a function call.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>The output of a function call: a string or a list of content parts, as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Output { get; init; }

    /// <summary>The content parts of a message.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ResponseContentPart>? Content { get; init; }

    /// <summary>The role of a message: <c>user</c>, <c>assistant</c>, <c>system</c> or <c>developer</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    /// <summary>The summary of a reasoning item, as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Summary { get; init; }

    /// <summary>The encrypted content of a reasoning item, as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EncryptedContent { get; init; }

    /// <summary>The queries a <c>file_search_call</c> ran.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Queries { get; init; }

    /// <summary>
    /// The results of a <c>file_search_call</c> (<c>file_id</c>, <c>filename</c>, <c>score</c>, <c>text</c>,
    /// <c>attributes</c>), present when the request included <c>file_search_call.results</c>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Results { get; init; }

    /// <summary>The text of a message's text parts (<c>input_text</c>, <c>output_text</c>, <c>refusal</c>), joined.</summary>
    public string GetText() => Content is null ? string.Empty : string.Concat(Content.Select(p => p.Text ?? p.Refusal));
}

/// <summary>Content part types.</summary>
public static class ResponseContentTypes
{
    /// <summary><c>input_text</c>.</summary>
    public const string InputText = "input_text";

    /// <summary><c>input_image</c>.</summary>
    public const string InputImage = "input_image";

    /// <summary><c>input_file</c>.</summary>
    public const string InputFile = "input_file";

    /// <summary><c>output_text</c>.</summary>
    public const string OutputText = "output_text";

    /// <summary><c>refusal</c>.</summary>
    public const string Refusal = "refusal";
}

/// <summary>One content part of a message.</summary>
public sealed record ResponseContentPart
{
    /// <summary>One of <see cref="ResponseContentTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Annotations of an <c>output_text</c> part (always a list there, empty when none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<JsonElement>? Annotations { get; init; }

    /// <summary>Log probabilities of an <c>output_text</c> part (always a list there).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<JsonElement>? Logprobs { get; init; }

    /// <summary>The text of an <c>input_text</c> or <c>output_text</c> part.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    /// <summary>The refusal of a <c>refusal</c> part.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Refusal { get; init; }

    /// <summary>The URL of an <c>input_image</c> part: https, or a base64 <c>data:</c> URL.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ImageUrl { get; init; }

    /// <summary>The uploaded file of an <c>input_image</c> or <c>input_file</c> part.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileId { get; init; }

    /// <summary>The detail of an <c>input_image</c> part: <c>low</c>, <c>high</c>, <c>auto</c> or <c>original</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }

    /// <summary>The name of an <c>input_file</c> part's file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Filename { get; init; }

    /// <summary>The content of an <c>input_file</c> part: base64, or a base64 <c>data:</c> URL.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileData { get; init; }

    /// <summary>The URL of an <c>input_file</c> part's file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileUrl { get; init; }

    /// <summary>An input text part.</summary>
    public static ResponseContentPart InputText(string text) => new() { Type = ResponseContentTypes.InputText, Text = text };

    /// <summary>An output text part with empty annotations and log probabilities.</summary>
    public static ResponseContentPart OutputText(string text, IReadOnlyList<JsonElement>? logprobs = null) =>
        new() { Type = ResponseContentTypes.OutputText, Annotations = [], Logprobs = logprobs ?? [], Text = text };
}
