using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Capa.Protocol.Responses;

/// <summary>
/// Turns a response request and its context (the items of a chain or conversation before it) into the chat completion
/// request that runs it: instructions as the system message, messages as messages, function calls as assistant tool
/// calls, their outputs as tool messages, function tools and <c>text.format</c> as chat's tools and
/// <c>response_format</c>, so the same validation and constrained decoding apply. Reasoning items are kept in the
/// store but not sent: chat templates have no place for them.
/// </summary>
public static partial class ResponsesChatRequest
{
    /// <summary>Builds and validates the chat request; errors name the Responses parameter at fault.</summary>
    public static bool TryCreate(
        CreateResponseRequest request,
        IReadOnlyList<ResponseItem> context,
        ChatRequestLimits limits,
        [NotNullWhen(true)] out ChatCompletionRequest? chat,
        [NotNullWhen(true)] out byte[]? body,
        [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        body = Write(request, context);
        if (ChatRequestReader.TryRead(body, limits with { MaxBodyBytes = int.MaxValue, MaxMessages = int.MaxValue }, out chat, out var chatError))
        {
            error = null;
            return true;
        }

        body = null;
        error = ToResponsesError(chatError, request, context);
        return false;
    }

    /// <summary>
    /// A chat error (from validation, or from a provider compiling the request's schemas) with its parameter named as
    /// the Responses request spells it: <c>tools[0].parameters</c>, <c>text.format.schema</c>, <c>max_output_tokens</c>.
    /// </summary>
    public static ApiError ToResponsesError(ApiError chatError)
    {
        ArgumentNullException.ThrowIfNull(chatError);
        return new ApiError(chatError.Status, RenameParameters(chatError.Message)!, chatError.Type, RenameParameters(chatError.Param), chatError.Code)
        {
            RetryAfterSeconds = chatError.RetryAfterSeconds,
        };
    }

    private static byte[] Write(CreateResponseRequest request, IReadOnlyList<ResponseItem> context)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = CapaJsonContext.WireEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("model"u8, request.Model);
            w.WriteStartArray("messages"u8);
            if (request.Instructions is { } instructions)
            {
                w.WriteStartObject();
                w.WriteString("role"u8, "system");
                w.WriteString("content"u8, instructions);
                w.WriteEndObject();
            }

            WriteMessages(w, [.. context, .. request.Input]);
            w.WriteEndArray();
            if (request.Temperature is { } temperature)
            {
                w.WriteNumber("temperature"u8, temperature);
            }

            if (request.TopP is { } topP)
            {
                w.WriteNumber("top_p"u8, topP);
            }

            if (request.MaxOutputTokens is { } max)
            {
                w.WriteNumber("max_completion_tokens"u8, max);
            }

            if (request.Seed is { } seed)
            {
                w.WriteNumber("seed"u8, seed);
            }

            if (request.WantsLogprobs || request.TopLogprobs is > 0)
            {
                w.WriteBoolean("logprobs"u8, true);
                w.WriteNumber("top_logprobs"u8, request.TopLogprobs ?? 0);
            }

            if (request.Tools.Count > 0)
            {
                w.WriteStartArray("tools"u8);
                foreach (var tool in request.Tools)
                {
                    w.WriteStartObject();
                    w.WriteString("type"u8, "function");
                    w.WriteStartObject("function"u8);
                    w.WriteString("name"u8, tool.Name);
                    if (tool.Description is { } description)
                    {
                        w.WriteString("description"u8, description);
                    }

                    if (tool.Parameters is { } parameters)
                    {
                        w.WritePropertyName("parameters"u8);
                        parameters.WriteTo(w);
                    }

                    if (tool.Strict is { } strict)
                    {
                        w.WriteBoolean("strict"u8, strict);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteBoolean("parallel_tool_calls"u8, request.ParallelToolCalls);
                if (request.ChatToolChoice is { } choice)
                {
                    w.WritePropertyName("tool_choice"u8);
                    JsonSerializer.Serialize(w, choice, CapaJsonContext.Default.ToolChoice);
                }
            }

            if (request.Format is { } format)
            {
                w.WritePropertyName("response_format"u8);
                JsonSerializer.Serialize(w, format, CapaJsonContext.Default.ResponseFormat);
            }

            if (request.User is { } user)
            {
                w.WriteString("user"u8, user);
            }

            if (request.SafetyIdentifier is { } safety)
            {
                w.WriteString("safety_identifier"u8, safety);
            }

            if (request.PromptCacheKey is { } key)
            {
                w.WriteString("prompt_cache_key"u8, key);
            }

            w.WriteBoolean("stream"u8, true);
            w.WriteStartObject("stream_options"u8);
            w.WriteBoolean("include_usage"u8, true);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessages(Utf8JsonWriter w, IReadOnlyList<ResponseItem> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            switch (item.Type)
            {
                case ResponseItemTypes.Message:
                    w.WriteStartObject();
                    w.WriteString("role"u8, item.Role ?? "user");
                    if (item.Content?.Any(p => p.Type == ResponseContentTypes.InputImage) == true)
                    {
                        WriteParts(w, item.Content);
                    }
                    else
                    {
                        w.WriteString("content"u8, item.GetText());
                    }

                    // An assistant message followed by function calls is one chat turn: text and calls together.
                    if (item.Role == "assistant" && i + 1 < items.Count && items[i + 1].Type == ResponseItemTypes.FunctionCall)
                    {
                        i = WriteToolCalls(w, items, i + 1) - 1;
                    }

                    w.WriteEndObject();
                    break;
                case ResponseItemTypes.FunctionCall:
                    w.WriteStartObject();
                    w.WriteString("role"u8, "assistant");
                    w.WriteNull("content"u8);
                    i = WriteToolCalls(w, items, i) - 1;
                    w.WriteEndObject();
                    break;
                case ResponseItemTypes.FunctionCallOutput:
                    w.WriteStartObject();
                    w.WriteString("role"u8, "tool");
                    w.WriteString("tool_call_id"u8, item.CallId);
                    w.WriteString("content"u8, OutputText(item.Output));
                    w.WriteEndObject();
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// A message with images as chat's content parts, one for each of its parts so that a part's index is the same in
    /// both requests: its images as <c>image_url</c> parts (a file's image arrives here as a <c>data:</c> URL), its text
    /// (an <c>input_file</c>'s extracted text included) as <c>text</c> parts.
    /// </summary>
    private static void WriteParts(Utf8JsonWriter w, IReadOnlyList<ResponseContentPart> parts)
    {
        w.WriteStartArray("content"u8);
        foreach (var part in parts)
        {
            w.WriteStartObject();
            if (part.Type == ResponseContentTypes.InputImage)
            {
                w.WriteString("type"u8, "image_url");
                w.WriteStartObject("image_url"u8);
                w.WriteString("url"u8, part.ImageUrl ?? string.Empty);

                // Chat knows no "original"; the most detail it has is "high".
                w.WriteString("detail"u8, part.Detail is "original" ? "high" : part.Detail ?? "auto");
                w.WriteEndObject();
            }
            else
            {
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, part.Text ?? part.Refusal ?? string.Empty);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// For each message of the chat request built from <paramref name="request"/> and <paramref name="context"/>, the
    /// index of the item it came from in the context followed by the input (-1 for the instructions).
    /// </summary>
    public static IReadOnlyList<int> MessageSources(CreateResponseRequest request, IReadOnlyList<ResponseItem> context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var sources = new List<int>();
        if (request.Instructions is not null)
        {
            sources.Add(-1);
        }

        IReadOnlyList<ResponseItem> items = [.. context, .. request.Input];
        for (var i = 0; i < items.Count; i++)
        {
            switch (items[i].Type)
            {
                case ResponseItemTypes.Message:
                    sources.Add(i);
                    if (items[i].Role == "assistant")
                    {
                        while (i + 1 < items.Count && items[i + 1].Type == ResponseItemTypes.FunctionCall)
                        {
                            i++;
                        }
                    }

                    break;
                case ResponseItemTypes.FunctionCall:
                    sources.Add(i);
                    while (i + 1 < items.Count && items[i + 1].Type == ResponseItemTypes.FunctionCall)
                    {
                        i++;
                    }

                    break;
                case ResponseItemTypes.FunctionCallOutput:
                    sources.Add(i);
                    break;
                default:
                    break;
            }
        }

        return sources;
    }

    /// <summary>
    /// <see cref="ToResponsesError(ApiError)"/>, with a parameter inside chat's <c>messages</c> named as the item of
    /// the Responses request it came from: <c>messages[3].content[1].image_url.url</c> becomes
    /// <c>input[0].content[1].image_url</c>; an item of the earlier context is named by what brought it in.
    /// </summary>
    public static ApiError ToResponsesError(ApiError chatError, CreateResponseRequest request, IReadOnlyList<ResponseItem> context)
    {
        ArgumentNullException.ThrowIfNull(chatError);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var renamed = ToResponsesError(chatError);
        var match = chatError.Param is null ? null : MessagePath().Match(chatError.Param);
        if (match is null || !match.Success)
        {
            return renamed;
        }

        var sources = MessageSources(request, context);
        var message = int.Parse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture);
        var source = message < sources.Count ? sources[message] : -1;
        string param;
        if (source < 0)
        {
            param = "instructions";
        }
        else if (source < context.Count)
        {
            param = request.ConversationId is not null ? "conversation" : "previous_response_id";
        }
        else
        {
            var rest = match.Groups[2].Value.Replace(".[", "[", StringComparison.Ordinal);
            if (rest.EndsWith(".image_url.url", StringComparison.Ordinal))
            {
                rest = rest[..^".url".Length];
            }

            param = $"input[{(source - context.Count).ToString(System.Globalization.CultureInfo.InvariantCulture)}]{rest}";
        }

        return new ApiError(renamed.Status, renamed.Message, renamed.Type, param, renamed.Code) { RetryAfterSeconds = renamed.RetryAfterSeconds };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^messages\.?\[(\d+)\](.*)$")]
    private static partial System.Text.RegularExpressions.Regex MessagePath();

    /// <summary>Writes the run of function calls starting at <paramref name="start"/>; returns the index after it.</summary>
    private static int WriteToolCalls(Utf8JsonWriter w, IReadOnlyList<ResponseItem> items, int start)
    {
        w.WriteStartArray("tool_calls"u8);
        var i = start;
        for (; i < items.Count && items[i].Type == ResponseItemTypes.FunctionCall; i++)
        {
            w.WriteStartObject();
            w.WriteString("id"u8, items[i].CallId);
            w.WriteString("type"u8, "function");
            w.WriteStartObject("function"u8);
            w.WriteString("name"u8, items[i].Name);
            w.WriteString("arguments"u8, items[i].Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        return i;
    }

    private static string OutputText(JsonElement? output)
    {
        if (output is not { } value)
        {
            return string.Empty;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        var text = new System.Text.StringBuilder();
        foreach (var part in value.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text"u8, out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
        }

        return text.ToString();
    }

    /// <summary>Names chat's parameters as the Responses request spells them.</summary>
    private static string? RenameParameters(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return System.Text.RegularExpressions.Regex.Replace(text, @"tools\[(\d+)\]\.function\.", "tools[$1].")
            .Replace("response_format.json_schema.", "text.format.", StringComparison.Ordinal)
            .Replace("response_format", "text.format", StringComparison.Ordinal)
            .Replace("max_completion_tokens", "max_output_tokens", StringComparison.Ordinal)
            .Replace("messages", "input", StringComparison.Ordinal);
    }
}
