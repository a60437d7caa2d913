using System.Text;
using Capa.Tokenizers.Text;

namespace Capa.Engine.Text.Tools;

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
/// <remarks>
/// A splitter made by <see cref="ForConstrained"/> is for output decoded under the forced-call grammar
/// (<see cref="ToolCallFormat.CallGrammar"/>), where every call is well formed by construction: it announces a call
/// as soon as its name is complete and its arguments object has opened, then streams the arguments' text as it
/// arrives. The fragments of a call concatenate to exactly the arguments <see cref="ToolCallParser"/> returns for
/// the same output. A call that does not have the grammar's shape before it is announced is handled as by the
/// default splitter (held until complete, content when malformed); output cut off after a call was announced
/// leaves that call with the arguments generated so far, as OpenAI streams a call cut by <c>length</c>, and text
/// that breaks the grammar's shape after an announcement is released as content, never dropped.
/// </remarks>
public sealed class ToolCallStreamSplitter
{
    private const int ArgumentFragment = 64;
    private const string PythonTag = "<|python_tag|>";

    private readonly ToolCallFormat _format;
    private readonly IReadOnlyCollection<string>? _toolNames;
    private readonly Func<string> _newId;
    private readonly string? _open;
    private readonly string? _close;
    private readonly StringBuilder _pending = new();
    private bool _inside;
    private bool _started;
    private bool _bare;
    private bool _completed;
    private bool _cutOff;
    private string _heldBlank = string.Empty;

    // Incremental calls (constrained output only): the call being read, its scanner, how much of _pending the
    // scanner has read before the call was announced, and the arguments text read since the last fragment.
    private readonly bool _constrained;
    private readonly StringBuilder _fragment = new();
    private readonly StringBuilder _lead = new();
    private CallState _call;
    private ToolCallJsonScanner? _scanner;
    private int _scanned;
    private bool _bareHeld;
    private bool _tagSeen;

    /// <summary>Creates a splitter for one choice of free (unconstrained) output.</summary>
    /// <param name="format">The model's tool-call format.</param>
    /// <param name="toolNames">The names a call may use; null accepts any.</param>
    /// <param name="newId">Creates call ids; null for <see cref="ParsedToolCall.NewId"/>.</param>
    public ToolCallStreamSplitter(ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId = null)
        : this(format, toolNames, newId, constrained: false)
    {
    }

    private ToolCallStreamSplitter(ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId, bool constrained)
    {
        ArgumentNullException.ThrowIfNull(format);
        _format = format;
        _toolNames = toolNames;
        _newId = newId ?? ParsedToolCall.NewId;
        _constrained = constrained;
        if (format.IsTagged)
        {
            _open = ToolCallParser.OpenMarker(format);
            _close = ToolCallParser.CloseMarker(format);
        }
    }

    private enum CallState
    {
        /// <summary>Not inside a call, or inside one handled the unconstrained way.</summary>
        None,

        /// <summary>Reading a call's name; nothing emitted yet.</summary>
        Scanning,

        /// <summary>Announced; streaming its arguments.</summary>
        Streaming,

        /// <summary>Its object closed (or broke off); waiting for the close tag.</summary>
        Closing,

        /// <summary>Not shaped as the grammar shapes calls: held until complete and parsed whole.</summary>
        Held,
    }

    private enum CallStep
    {
        Wait,
        Ended,
        Failed,
    }

    /// <summary>
    /// Creates a splitter for one choice of output decoded under <paramref name="format"/>'s forced-call grammar
    /// (<c>tool_choice</c> required or a named function): calls are announced as soon as their name is known and
    /// their arguments are streamed as they are generated.
    /// </summary>
    /// <param name="format">The model's tool-call format (the one the grammar was built for).</param>
    /// <param name="toolNames">The names a call may use; null accepts any.</param>
    /// <param name="newId">Creates call ids; null for <see cref="ParsedToolCall.NewId"/>.</param>
    public static ToolCallStreamSplitter ForConstrained(ToolCallFormat format, IReadOnlyCollection<string>? toolNames, Func<string>? newId = null) =>
        new(format, toolNames, newId, constrained: true);

    /// <summary>
    /// What a client that accumulates <paramref name="events"/> holds at the end, as the official SDKs do: the
    /// content (trimmed, or null when blank) and each call with its arguments concatenated. The non-streamed form of
    /// a streamed response, so both agree by construction.
    /// </summary>
    public static ToolCallParseResult Accumulate(IEnumerable<ToolStreamEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var content = new StringBuilder();
        var calls = new List<(string Id, string Name, StringBuilder Arguments)>();
        foreach (var e in events)
        {
            switch (e)
            {
                case ContentEvent c:
                    content.Append(c.Text);
                    break;
                case ToolCallEvent { Id: { } id } first:
                    calls.Add((id, first.Name ?? string.Empty, new StringBuilder(first.Arguments)));
                    break;
                case ToolCallEvent fragment:
                    calls[fragment.Index].Arguments.Append(fragment.Arguments);
                    break;
            }
        }

        var text = content.ToString().Trim();
        return new ToolCallParseResult(text.Length == 0 ? null : text, [.. calls.Select(c => new ParsedToolCall(c.Id, c.Name, c.Arguments.ToString()))]);
    }

    /// <summary>Whether this splitter streams arguments incrementally (made by <see cref="ForConstrained"/>).</summary>
    public bool IsConstrained => _constrained;

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
            else if (_constrained && !_bareHeld)
            {
                DrainBare(events, final: false);
            }

            return events;
        }

        Drain(events, final: false);
        return events;
    }

    /// <summary>Ends the stream: releases what was held back, as calls where it parses as calls.</summary>
    public IReadOnlyList<ToolStreamEvent> Complete() => Complete(cutOff: false);

    /// <summary>
    /// Ends the stream; <paramref name="cutOff"/> says the output was cut by the token limit (<c>length</c>). Then an
    /// unfinished call never becomes content: a forced call (<see cref="ForConstrained"/>) cut before its arguments
    /// opened is still a call, named as far as its name was generated (the one allowed name it can be, else the
    /// characters so far) with empty arguments, and a call cut inside its arguments keeps the arguments so far; a call
    /// block of free output that does not parse, a partial opening tag or close tag, and a bare-JSON call that never
    /// closed are dropped.
    /// </summary>
    public IReadOnlyList<ToolStreamEvent> Complete(bool cutOff)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        _cutOff = cutOff;
        var events = new List<ToolStreamEvent>();
        if (!_format.IsTagged)
        {
            if (_constrained && _bare && !_bareHeld)
            {
                DrainBare(events, final: true);
                if (!_bareHeld)
                {
                    return events;
                }
            }

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
            else if (text.Length > 0 && !(_cutOff && _bare))
            {
                // A cut-off output that began as a call (a '{' or the python tag) is an unfinished call, not text.
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
                    if (_constrained)
                    {
                        StartCall();
                    }

                    continue;
                }

                var keep = !final || _cutOff ? PartialMatch.SuffixLength(text, _open!) : 0;
                if (final && keep > 0)
                {
                    // Cut off inside an opening tag: a forced output is a call from its first character; free output
                    // loses the partial tag.
                    EmitContent(events, text[..^keep], final: false);
                    if (_constrained && ToolCallCount == 0)
                    {
                        EmitCall(events, _newId(), ResolveName(string.Empty), string.Empty);
                    }

                    _pending.Clear();
                    EmitContent(events, string.Empty, final: true);
                    return;
                }

                EmitContent(events, text[..^keep], final);
                _pending.Remove(0, text.Length - keep);
                return;
            }

            if (_call is CallState.Scanning or CallState.Streaming)
            {
                switch (Advance(events, final))
                {
                    case CallStep.Wait:
                        return;
                    case CallStep.Failed:
                        // Before the call was announced it is parsed whole, as unconstrained output is; after,
                        // what breaks the grammar's shape is released as content below.
                        _call = _call == CallState.Scanning ? CallState.Held : CallState.Closing;
                        continue;
                    default:
                        _call = CallState.Closing;
                        continue;
                }
            }

            var end = ToolCallParser.FindClose(text, 0, _close!, final);
            if (end < 0 && !final)
            {
                return;
            }

            if (_call == CallState.Closing)
            {
                // The call is out; what lies between its object and the close tag is layout (the grammar's newline).
                var rest = end < 0 ? text : text[..end];

                // A close tag cut short is markup, not content.
                if (!string.IsNullOrWhiteSpace(rest) && !(end < 0 && _cutOff))
                {
                    EmitContent(events, rest, final: false);
                }

                _pending.Remove(0, end < 0 ? text.Length : end + _close!.Length);
                _inside = false;
                _call = CallState.None;
                _scanner = null;
                continue;
            }

            var body = end < 0 ? text : text[..end];
            var consumed = end < 0 ? text.Length : end + _close!.Length;
            if (ToolCallParser.TryParseCall(body, _format, _toolNames, out var name, out var arguments))
            {
                _heldBlank = string.Empty; // whitespace between calls is layout, not content
                EmitCall(events, _newId(), name, arguments);
            }
            else if (end >= 0 || !_cutOff)
            {
                EmitContent(events, _open + text[..consumed], final: false);
            }

            _pending.Remove(0, consumed);
            _inside = false;
            _call = CallState.None;
            if (final && _pending.Length == 0)
            {
                EmitContent(events, string.Empty, final: true);
                return;
            }
        }
    }

    // The name of a forced call cut off inside it: the one allowed name that starts with what was generated, else
    // what was generated.
    private string ResolveName(string partial)
    {
        if (_toolNames is null)
        {
            return partial;
        }

        string? only = null;
        foreach (var name in _toolNames)
        {
            if (name.StartsWith(partial, StringComparison.Ordinal))
            {
                if (only is not null)
                {
                    return partial;
                }

                only = name;
            }
        }

        return only ?? partial;
    }

    private void StartCall()
    {
        _call = CallState.Scanning;
        _scanner = new ToolCallJsonScanner(_format.ArgumentsKey);
        _scanned = 0;
    }

    // Reads the current call (constrained output) from _pending: announces it once its name is known and its
    // arguments have opened, then streams its arguments. Ended: its object closed and was consumed. Failed: it
    // does not have the grammar's shape; before the announcement _pending still holds the whole call, after it
    // _pending starts at the first character that broke the shape.
    private CallStep Advance(List<ToolStreamEvent> events, bool final)
    {
        var scanner = _scanner!;
        if (_call == CallState.Scanning)
        {
            while (_scanned < _pending.Length && !scanner.ArgumentsOpened)
            {
                if (scanner.Feed(_pending[_scanned]) == ToolCallScanStep.Invalid)
                {
                    return CallStep.Failed;
                }

                _scanned++;
            }

            if (!scanner.ArgumentsOpened)
            {
                // A close tag before the arguments (inside the name string, say) means the parser reads no call.
                var closed = _close is not null && _pending.ToString().Contains(_close, StringComparison.Ordinal);
                if (final && _cutOff && !closed)
                {
                    var name = ResolveName(scanner.NameSoFar);
                    // Cut off before the arguments: the call is what the grammar has settled so far.
                    _heldBlank = string.Empty;
                    EmitCall(events, _newId(), name, string.Empty);
                    _pending.Clear();
                    return CallStep.Ended;
                }

                return final || closed ? CallStep.Failed : CallStep.Wait;
            }

            if (_toolNames is not null && !_toolNames.Contains(scanner.Name!))
            {
                return CallStep.Failed;
            }

            _heldBlank = string.Empty; // whitespace between calls is layout, not content
            events.Add(new ToolCallEvent(ToolCallCount++, _newId(), scanner.Name, string.Empty));
            _pending.Remove(0, _scanned);
            _fragment.Append('{');
            _call = CallState.Streaming;
        }

        var step = CallStep.Wait;
        var read = 0;
        for (; read < _pending.Length; read++)
        {
            var c = _pending[read];

            // Half a surrogate pair waits for its other half: every fragment is whole UTF-16 text.
            if (!final && read == _pending.Length - 1 && char.IsHighSurrogate(c))
            {
                break;
            }

            var kind = scanner.Feed(c);
            if (kind == ToolCallScanStep.Arguments)
            {
                _fragment.Append(c);
            }
            else if (kind == ToolCallScanStep.End)
            {
                read++;
                step = CallStep.Ended;
                break;
            }
            else if (kind == ToolCallScanStep.Invalid)
            {
                step = CallStep.Failed;
                break;
            }
        }

        _pending.Remove(0, read);
        if (_fragment.Length > 0)
        {
            events.Add(new ToolCallEvent(ToolCallCount - 1, null, null, _fragment.ToString()));
            _fragment.Clear();
        }

        return step;
    }

    // Bare-JSON calls from constrained output: separators, an optional leading python tag, then calls one after
    // another. What does not fit is held and parsed whole at the end, as unconstrained output is.
    private void DrainBare(List<ToolStreamEvent> events, bool final)
    {
        while (true)
        {
            if (_call == CallState.None)
            {
                var i = 0;
                while (true)
                {
                    while (i < _pending.Length && _pending[i] is ' ' or '\t' or '\r' or '\n' or ';')
                    {
                        i++;
                    }

                    if (ToolCallCount > 0 || _tagSeen || i == _pending.Length || _pending[i] != PythonTag[0])
                    {
                        break;
                    }

                    var n = Math.Min(PythonTag.Length, _pending.Length - i);
                    if (_pending.ToString(i, n) != PythonTag[..n])
                    {
                        break;
                    }

                    if (n < PythonTag.Length)
                    {
                        if (!final)
                        {
                            Lead(i);
                            return;
                        }

                        break;
                    }

                    i += n;
                    _tagSeen = true;
                }

                Lead(i);
                if (_pending.Length == 0)
                {
                    return;
                }

                if (_pending[0] != '{')
                {
                    HoldBare();
                    return;
                }

                StartCall();
            }

            switch (Advance(events, final))
            {
                case CallStep.Wait:
                    return;
                case CallStep.Failed:
                    HoldBare();
                    return;
                default:
                    _call = CallState.None;
                    _scanner = null;
                    break;
            }
        }
    }

    // Drops consumed separators, remembered while no call is out (the whole output is parsed if none will be).
    private void Lead(int length)
    {
        if (ToolCallCount == 0)
        {
            _lead.Append(_pending.ToString(0, length));
        }

        _pending.Remove(0, length);
    }

    private void HoldBare()
    {
        _bareHeld = true;
        if (ToolCallCount == 0)
        {
            _pending.Insert(0, _lead.ToString());
        }

        _lead.Clear();
        _call = CallState.None;
        _scanner = null;
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
}
