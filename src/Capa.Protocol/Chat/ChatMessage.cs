using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol;

/// <summary>One message of a chat completion request (<c>ChatCompletionRequestMessage</c>).</summary>
public sealed class ChatMessage
{
    /// <summary>Who wrote the message.</summary>
    public required ChatRole Role { get; init; }

    /// <summary>
    /// The content: a string or a list of parts. Null only for an assistant message that carries
    /// <see cref="ToolCalls"/> or <see cref="FunctionCall"/> instead.
    /// </summary>
    public ChatMessageContent? Content { get; init; }

    /// <summary>Optional participant name (function name for the deprecated <c>function</c> role).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    /// <summary>Tool calls made by an assistant message.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a <c>tool</c> message: the id of the call it answers.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ToolCallId { get; init; }

    /// <summary>An assistant refusal.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Refusal { get; init; }

    /// <summary>Deprecated assistant function call.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatFunctionCall? FunctionCall { get; init; }

    /// <summary>Reference to a previous audio response (<c>{"id": ...}</c>), kept as sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Audio { get; init; }

    /// <summary>
    /// The text of the message: the string content, or its text (and refusal) parts joined without separator.
    /// Empty when there is no textual content.
    /// </summary>
    public string GetText() => Content?.GetText() ?? string.Empty;
}

/// <summary>
/// Message content: either a plain string (<see cref="Text"/>) or a list of typed parts (<see cref="Parts"/>).
/// Exactly one of the two is non-null.
/// </summary>
[JsonConverter(typeof(ChatMessageContentConverter))]
public sealed class ChatMessageContent
{
    private ChatMessageContent(string? text, IReadOnlyList<ChatContentPart>? parts)
    {
        Text = text;
        Parts = parts;
    }

    /// <summary>The content when it was sent as a string.</summary>
    public string? Text { get; }

    /// <summary>The content when it was sent as an array of parts.</summary>
    public IReadOnlyList<ChatContentPart>? Parts { get; }

    /// <summary>Content given as one string.</summary>
    public static ChatMessageContent FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new ChatMessageContent(text, null);
    }

    /// <summary>Content given as parts.</summary>
    public static ChatMessageContent FromParts(IReadOnlyList<ChatContentPart> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new ChatMessageContent(null, parts);
    }

    /// <summary>Implicit conversion from a string.</summary>
    public static implicit operator ChatMessageContent(string text) => FromText(text);

    /// <summary>The textual content: the string itself, or the text and refusal parts concatenated.</summary>
    public string GetText()
    {
        if (Text is not null)
        {
            return Text;
        }

        if (Parts is null || Parts.Count == 0)
        {
            return string.Empty;
        }

        if (Parts.Count == 1)
        {
            return Parts[0].Text ?? Parts[0].Refusal ?? string.Empty;
        }

        var builder = new StringBuilder();
        foreach (var part in Parts)
        {
            builder.Append(part.Text ?? part.Refusal);
        }

        return builder.ToString();
    }
}

/// <summary>Well-known content part types.</summary>
public static class ChatContentPartTypes
{
    /// <summary><c>text</c>.</summary>
    public const string Text = "text";

    /// <summary><c>image_url</c>.</summary>
    public const string ImageUrl = "image_url";

    /// <summary><c>input_audio</c>.</summary>
    public const string InputAudio = "input_audio";

    /// <summary><c>file</c>.</summary>
    public const string File = "file";

    /// <summary><c>refusal</c>.</summary>
    public const string Refusal = "refusal";
}

/// <summary>One part of array-form message content. The member matching <see cref="Type"/> is set.</summary>
public sealed class ChatContentPart
{
    /// <summary>One of <see cref="ChatContentPartTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>For <c>text</c> parts.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; init; }

    /// <summary>For <c>image_url</c> parts.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatImageUrl? ImageUrl { get; init; }

    /// <summary>For <c>input_audio</c> parts.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatInputAudio? InputAudio { get; init; }

    /// <summary>For <c>file</c> parts.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ChatInputFile? File { get; init; }

    /// <summary>For <c>refusal</c> parts.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Refusal { get; init; }

    /// <summary>A text part.</summary>
    public static ChatContentPart FromText(string text) => new() { Type = ChatContentPartTypes.Text, Text = text };

    /// <summary>An image part (https URL or <c>data:</c> URL).</summary>
    public static ChatContentPart FromImageUrl(string url, string? detail = null) =>
        new() { Type = ChatContentPartTypes.ImageUrl, ImageUrl = new ChatImageUrl { Url = url, Detail = detail } };
}

/// <summary>The <c>image_url</c> object of an image part.</summary>
public sealed class ChatImageUrl
{
    /// <summary>An https URL or a <c>data:image/...;base64,</c> URL.</summary>
    public required string Url { get; init; }

    /// <summary><c>auto</c>, <c>low</c> or <c>high</c>; null when not sent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }
}

/// <summary>The <c>input_audio</c> object of an audio part.</summary>
public sealed class ChatInputAudio
{
    /// <summary>Base64-encoded audio.</summary>
    public required string Data { get; init; }

    /// <summary><c>wav</c> or <c>mp3</c>.</summary>
    public required string Format { get; init; }
}

/// <summary>The <c>file</c> object of a file part.</summary>
public sealed class ChatInputFile
{
    /// <summary>File name, when the data is inline.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Filename { get; init; }

    /// <summary>Base64-encoded file data.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileData { get; init; }

    /// <summary>Id of an uploaded file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileId { get; init; }
}
