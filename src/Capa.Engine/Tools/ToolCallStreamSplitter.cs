namespace Capa.Engine.Tools;

/// <summary>A piece of streamed output: plain content or a fragment of a tool call.</summary>
public abstract record ToolStreamEvent;

/// <summary>Plain assistant text.</summary>
/// <param name="Text">The text (not empty).</param>
public sealed record ContentEvent(string Text) : ToolStreamEvent;

/// <summary>
/// A fragment of tool call <paramref name="Index"/>, shaped as OpenAI streams them: the first fragment of a call
/// carries <paramref name="Id"/> and <paramref name="Name"/> (type <c>function</c>) and empty arguments; later
/// fragments carry only pieces of <paramref name="Arguments"/>, which concatenate to the JSON text.
/// </summary>
public sealed record ToolCallEvent(int Index, string? Id, string? Name, string? Arguments) : ToolStreamEvent;

/// <summary>
/// Splits streamed text into content and tool-call deltas. Text that may be the start of a call is held back
/// until it is known; a call is emitted once its JSON is complete and names a known tool, otherwise its text is
/// released as content. For bare-JSON formats (Llama 3) an output that starts with <c>{</c> is held to the end
/// and then parsed whole. Not thread-safe: one per choice.
/// </summary>
public sealed class ToolCallStreamSplitter
{
    private const int ArgumentFragment = 64;

    private readonly ToolCallFormat _format;
    private readonly IReadOnlyCollection<string>? _toolNames;
    private readonly Func<string> _newId;
    private readonly string? _open;
    private readonly string? _close;
    private readonly System.Text.StringBuilder _pending = new();
    private bool _inside;
    private bool _started;
    private bool _bare;
    private bool _completed;
    private string _heldBlank = string.Empty;

    /// <summary>Creates a splitter for one choice.</summary>
    /// <param name="format">The model's tool-call format.</param>
    /// <param name="toolNames">The names a call may use; null accepts any.</param>
    /// <param name="newId">Creates call ids; null for <see cref="ParsedToolCall.NewId"/>.</param>
    public ToolCallStreamSplitter(ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId = null)
    {
        ArgumentNullException.ThrowIfNull(format);
        _format = format;
        _toolNames = toolNames;
        _newId = newId ?? ParsedToolCall.NewId;
        if (format.IsTagged)
        {
            _open = ToolCallParser.OpenMarker(format);
            _close = ToolCallParser.CloseMarker(format);
        }
    }

    /// <summary>Tool calls emitted so far.</summary>
    public int ToolCallCount { get; private set; }

    /// <summary>Adds generated text; returns what can be emitted now.</summary>
    public IReadOnlyList<ToolStreamEvent> Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ObjectDisposedException.ThrowIf(_completed, this);
        var events = new List<ToolStreamEvent>();
        if (text.Length == 0)
        {
            return events;
        }

        _pending.Append(text);
        if (!_started)
        {
            var head = _pending.ToString().TrimStart();
            if (head.Length == 0)
            {
                return events;
            }

            _started = true;
            _bare = !_format.IsTagged && (head[0] == '{' || "<|python_tag|>".StartsWith(head.Length >= 14 ? head[..14] : head, StringComparison.Ordinal));
        }

        if (!_format.IsTagged)
        {
            if (!_bare)
            {
                // Plain text from a bare-JSON model: no call can follow once text has started.
                events.Add(new ContentEvent(_pending.ToString()));
                _pending.Clear();
            }

            return events;
        }

        Drain(events, final: false);
        return events;
    }

    /// <summary>Ends the stream: releases what was held back, as calls where it parses as calls.</summary>
    public IReadOnlyList<ToolStreamEvent> Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        var events = new List<ToolStreamEvent>();
        if (!_format.IsTagged)
        {
            var text = _pending.ToString();
            _pending.Clear();
            var result = ToolCallParser.Parse(text, _format, _toolNames, _newId);
            if (result.ToolCalls.Count > 0)
            {
                foreach (var call in result.ToolCalls)
                {
                    EmitCall(events, call.Id, call.Name, call.Arguments);
                }
            }
            else if (text.Length > 0)
            {
                events.Add(new ContentEvent(text));
            }

            return events;
        }

        Drain(events, final: true);
        return events;
    }

    private void Drain(List<ToolStreamEvent> events, bool final)
    {
        while (true)
        {
            var text = _pending.ToString();
            if (!_inside)
            {
                var start = text.IndexOf(_open!, StringComparison.Ordinal);
                if (start >= 0)
                {
                    EmitContent(events, text[..start], final: false);
                    _pending.Remove(0, start + _open!.Length);
                    _inside = true;
                    continue;
                }

                var keep = final ? 0 : PartialMarkerLength(text, _open!);
                EmitContent(events, text[..^keep], final);
                _pending.Remove(0, text.Length - keep);
                return;
            }

            var end = text.IndexOf(_close!, StringComparison.Ordinal);
            if (end < 0 && !final)
            {
                return;
            }

            var body = end < 0 ? text : text[..end];
            var consumed = end < 0 ? text.Length : end + _close!.Length;
            if (ToolCallParser.TryParseCall(body, _format, _toolNames, out var name, out var arguments))
            {
                _heldBlank = string.Empty; // whitespace between calls is layout, not content
                EmitCall(events, _newId(), name, arguments);
            }
            else
            {
                EmitContent(events, _open + text[..consumed], final: false);
            }

            _pending.Remove(0, consumed);
            _inside = false;
            if (final && _pending.Length == 0)
            {
                EmitContent(events, string.Empty, final: true);
                return;
            }
        }
    }

    // Whitespace is held until non-blank text follows, so the layout around calls never becomes content; at the
    // end it is released only when the output holds no call.
    private void EmitContent(List<ToolStreamEvent> events, string text, bool final)
    {
        if (!string.IsNullOrWhiteSpace(text))
        {
            events.Add(new ContentEvent(_heldBlank + text));
            _heldBlank = string.Empty;
            return;
        }

        _heldBlank += text;
        if (final)
        {
            if (ToolCallCount == 0 && _heldBlank.Length > 0)
            {
                events.Add(new ContentEvent(_heldBlank));
            }

            _heldBlank = string.Empty;
        }
    }

    private void EmitCall(List<ToolStreamEvent> events, string id, string name, string arguments)
    {
        var index = ToolCallCount++;
        events.Add(new ToolCallEvent(index, id, name, string.Empty));
        for (var i = 0; i < arguments.Length; i += ArgumentFragment)
        {
            var length = Math.Min(ArgumentFragment, arguments.Length - i);

            // Never split a surrogate pair across fragments.
            if (i + length < arguments.Length && char.IsHighSurrogate(arguments[i + length - 1]))
            {
                length++;
            }

            events.Add(new ToolCallEvent(index, null, null, arguments.Substring(i, length)));
            i += length - ArgumentFragment;
        }
    }

    // The longest suffix of text that is a proper prefix of the marker: it may be the start of a call.
    private static int PartialMarkerLength(string text, string marker)
    {
        for (var n = Math.Min(marker.Length - 1, text.Length); n > 0; n--)
        {
            if (text.AsSpan(text.Length - n).SequenceEqual(marker.AsSpan(0, n)))
            {
                return n;
            }
        }

        return 0;
    }
}
