using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Engine.Text.Tools;

/// <summary>
/// Finds tool calls in generated text, in a model's <see cref="ToolCallFormat"/>. A block that is not a well-formed
/// call to a known tool (bad JSON, unknown name, arguments not an object, unclosed tag followed by more text) stays
/// in the content: nothing is invented or silently dropped.
/// </summary>
public static class ToolCallParser
{
    private const string PythonTag = "<|python_tag|>";

    /// <summary>Splits <paramref name="text"/> into content and calls.</summary>
    /// <param name="text">The generated text.</param>
    /// <param name="format">The model's format.</param>
    /// <param name="toolNames">The names a call may use; null accepts any name.</param>
    /// <param name="newId">Creates call ids; null for <see cref="ParsedToolCall.NewId"/>.</param>
    public static ToolCallParseResult Parse(string text, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId = null) =>
        Parse(text, format, toolNames, newId, cutOff: false);

    /// <summary>
    /// Splits <paramref name="text"/> into content and calls; <paramref name="cutOff"/> says the output was cut by the
    /// token limit, and then an unfinished call (an unclosed block that does not parse, a partial opening tag at the
    /// end, a bare-JSON call that never closed) is dropped rather than shown as content.
    /// </summary>
    /// <inheritdoc cref="Parse(string, ToolCallFormat, IReadOnlyCollection{string}?, Func{string}?)"/>
    public static ToolCallParseResult Parse(string text, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId, bool cutOff)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(format);
        newId ??= ParsedToolCall.NewId;
        return format.IsTagged ? ParseTagged(text, format, toolNames, newId, cutOff) : ParseBare(text, format, toolNames, newId, cutOff);
    }

    /// <summary>Reads one call object (<c>{"name": ..., "arguments"|"parameters": {...}}</c>); false when it is not one.</summary>
    public static bool TryParseCall(string json, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, out string name, out string arguments)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(format);
        name = string.Empty;
        arguments = string.Empty;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return TryReadCall(doc.RootElement, format, toolNames, out name, out arguments);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Where the close tag of a block whose body starts at <paramref name="bodyStart"/> is, or -1. A body that opens a
    /// JSON object is read to its matching brace first (strings and escapes respected), so a close tag inside an
    /// argument string does not end the block. While the object is still open the answer is -1, unless
    /// <paramref name="final"/>, when the first close tag anywhere is taken (the object never closed).
    /// </summary>
    internal static int FindClose(string text, int bodyStart, string close, bool final)
    {
        var i = bodyStart;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        if (i < text.Length && text[i] == '{')
        {
            var depth = 0;
            var inString = false;
            var escaped = false;
            for (; i < text.Length; i++)
            {
                var c = text[i];
                if (inString)
                {
                    (escaped, inString) = escaped ? (false, true) : (c == '\\', c != '"');
                }
                else if (c == '"')
                {
                    inString = true;
                }
                else if (c is '{' or '[')
                {
                    depth++;
                }
                else if ((c is '}' or ']') && --depth == 0)
                {
                    return text.IndexOf(close, i + 1, StringComparison.Ordinal);
                }
            }

            if (!final)
            {
                return -1;
            }
        }

        return text.IndexOf(close, bodyStart, StringComparison.Ordinal);
    }

    internal static string OpenMarker(ToolCallFormat format) => format.OpenTag!.Trim();

    internal static string CloseMarker(ToolCallFormat format) => format.CloseTag!.Trim();

    private static ToolCallParseResult ParseTagged(string text, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string> newId, bool cutOff)
    {
        var open = OpenMarker(format);
        var close = CloseMarker(format);
        var content = new StringBuilder();
        var calls = new List<ParsedToolCall>();
        var pos = 0;
        while (pos < text.Length)
        {
            var start = text.IndexOf(open, pos, StringComparison.Ordinal);
            if (start < 0)
            {
                var tail = text.AsSpan(pos);
                if (cutOff)
                {
                    // An opening tag the limit cut short is markup.
                    tail = tail[..^PartialMatch.SuffixLength(tail, open)];
                }

                content.Append(tail);
                break;
            }

            content.Append(text, pos, start - pos);
            var bodyStart = start + open.Length;
            var end = FindClose(text, bodyStart, close, final: true);

            // An unclosed block counts only when it is the end of the output (the model stopped after the JSON).
            var bodyEnd = end < 0 ? text.Length : end;
            var next = end < 0 ? text.Length : end + close.Length;
            if (TryParseCall(text[bodyStart..bodyEnd], format, toolNames, out var name, out var arguments))
            {
                calls.Add(new ParsedToolCall(newId(), name, arguments));
            }
            else if (end >= 0 || !cutOff)
            {
                content.Append(text, start, next - start);
            }

            pos = next;
        }

        return new ToolCallParseResult(NullIfBlank(content.ToString()), calls);
    }

    private static ToolCallParseResult ParseBare(string text, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string> newId, bool cutOff)
    {
        var result = ParseBare(text, format, toolNames, newId);
        if (cutOff && result.ToolCalls.Count == 0 && result.Content is { } content
            && (content.StartsWith('{') || content.StartsWith(PythonTag, StringComparison.Ordinal)))
        {
            // A cut-off output that began as a call is an unfinished call, not text.
            return new ToolCallParseResult(null, []);
        }

        return result;
    }

    private static ToolCallParseResult ParseBare(string text, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string> newId)
    {
        var body = text.AsSpan().Trim();
        if (body.StartsWith(PythonTag, StringComparison.Ordinal))
        {
            body = body[PythonTag.Length..].TrimStart();
        }

        if (body.IsEmpty || body[0] != '{')
        {
            return new ToolCallParseResult(NullIfBlank(text), []);
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        var calls = new List<ParsedToolCall>();
        var pos = 0;
        try
        {
            while (true)
            {
                while (pos < bytes.Length && bytes[pos] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)';')
                {
                    pos++;
                }

                if (pos == bytes.Length)
                {
                    break;
                }

                var reader = new Utf8JsonReader(bytes.AsSpan(pos), new JsonReaderOptions { AllowMultipleValues = true });
                using var doc = JsonDocument.ParseValue(ref reader);
                if (!TryReadCall(doc.RootElement, format, toolNames, out var name, out var arguments))
                {
                    return new ToolCallParseResult(NullIfBlank(text), []);
                }

                calls.Add(new ParsedToolCall(newId(), name, arguments));
                pos += (int)reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            return new ToolCallParseResult(NullIfBlank(text), []);
        }

        return new ToolCallParseResult(null, calls);
    }

    private static bool TryReadCall(JsonElement root, ToolCallFormat format, IReadOnlyCollection<string>? toolNames, out string name, out string arguments)
    {
        name = string.Empty;
        arguments = string.Empty;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("name"u8, out var nameElement)
            || nameElement.ValueKind != JsonValueKind.String
            || nameElement.GetString() is not { Length: > 0 } found
            || (toolNames is not null && !toolNames.Contains(found)))
        {
            return false;
        }

        // Models trained on one key sometimes write the other; both mean the same thing.
        if (!root.TryGetProperty(format.ArgumentsKey, out var args)
            && !root.TryGetProperty(format.ArgumentsKey == "arguments" ? "parameters"u8 : "arguments"u8, out args))
        {
            return false;
        }

        switch (args.ValueKind)
        {
            case JsonValueKind.Object:
                arguments = args.GetRawText();
                break;
            case JsonValueKind.String:
                // Arguments already encoded as a JSON string: accepted when the string holds an object.
                var inner = args.GetString()!;
                try
                {
                    using var innerDoc = JsonDocument.Parse(inner);
                    if (innerDoc.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        return false;
                    }
                }
                catch (JsonException)
                {
                    return false;
                }

                arguments = inner;
                break;
            default:
                return false;
        }

        name = found;
        return true;
    }

    private static string? NullIfBlank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
