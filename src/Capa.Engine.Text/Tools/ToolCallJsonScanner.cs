using System.Text;
using System.Text.Json;

namespace Capa.Engine.Text.Tools;

/// <summary>What one character was to a <see cref="ToolCallJsonScanner"/>.</summary>
internal enum ToolCallScanStep
{
    /// <summary>Structure or whitespace outside the arguments value.</summary>
    Layout,

    /// <summary>Part of the arguments object's text (its braces included).</summary>
    Arguments,

    /// <summary>The brace closing the call object: the call is complete.</summary>
    End,

    /// <summary>Not the shape a forced call has; the character was not consumed.</summary>
    Invalid,
}

/// <summary>
/// Reads one call object <c>{"name": "...", "&lt;arguments key&gt;": {...}}</c> a character at a time, in the order and
/// layout the forced-call grammar produces: <c>name</c> first, a string; the arguments key second, an object; any JSON
/// whitespace between tokens. It tracks strings, escapes and nesting, so it knows where the arguments end without
/// parsing them. Anything else is <see cref="ToolCallScanStep.Invalid"/>, and the caller falls back to parsing the
/// whole call. Not thread-safe.
/// </summary>
internal sealed class ToolCallJsonScanner(string argumentsKey)
{
    private enum State
    {
        BeforeObject,
        BeforeKey,
        InKey,
        BeforeColon,
        BeforeValue,
        InName,
        InArguments,
        AfterValue,
        Done,
        Failed,
    }

    private readonly StringBuilder _token = new();
    private State _state;
    private int _keys;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <summary>The decoded name once its string is complete; null before.</summary>
    public string? Name { get; private set; }

    /// <summary>
    /// The name as far as it has been read: the decoded name once complete, else the characters of its string read so
    /// far (up to an unfinished escape), else empty. What a call cut off inside its name is known to call.
    /// </summary>
    public string NameSoFar
    {
        get
        {
            if (Name is not null)
            {
                return Name;
            }

            if (_state != State.InName || _token.Length < 2)
            {
                return string.Empty;
            }

            var text = _token.ToString(1, _token.Length - 1);
            var escape = text.IndexOf('\\', StringComparison.Ordinal);
            return escape < 0 ? text : text[..escape];
        }
    }

    /// <summary>Whether the arguments object has opened (its first brace was read).</summary>
    public bool ArgumentsOpened { get; private set; }

    /// <summary>Whether the call object has closed.</summary>
    public bool IsDone => _state == State.Done;

    /// <summary>Reads one character.</summary>
    public ToolCallScanStep Feed(char c)
    {
        switch (_state)
        {
            case State.BeforeObject:
                return IsWhitespace(c) ? ToolCallScanStep.Layout : c == '{' ? Go(State.BeforeKey) : Fail();
            case State.BeforeKey:
                if (IsWhitespace(c))
                {
                    return ToolCallScanStep.Layout;
                }

                if (c != '"' || _keys == 2)
                {
                    return Fail();
                }

                _token.Clear().Append(c);
                return Go(State.InKey);
            case State.InKey:
                _token.Append(c);
                if (EndsString(c))
                {
                    // Keys come in the grammar's order: the name, then the arguments.
                    var expected = _keys == 0 ? "name" : argumentsKey;
                    if (Decode(_token) != expected)
                    {
                        return Fail();
                    }

                    _keys++;
                    return Go(State.BeforeColon);
                }

                return ToolCallScanStep.Layout;
            case State.BeforeColon:
                return IsWhitespace(c) ? ToolCallScanStep.Layout : c == ':' ? Go(State.BeforeValue) : Fail();
            case State.BeforeValue:
                if (IsWhitespace(c))
                {
                    return ToolCallScanStep.Layout;
                }

                if (_keys == 1)
                {
                    if (c != '"')
                    {
                        return Fail();
                    }

                    _token.Clear().Append(c);
                    return Go(State.InName);
                }

                if (c != '{')
                {
                    // Arguments written as a string (or anything but an object) are the parser's business.
                    return Fail();
                }

                ArgumentsOpened = true;
                _depth = 1;
                _state = State.InArguments;
                return ToolCallScanStep.Arguments;
            case State.InName:
                _token.Append(c);
                if (EndsString(c))
                {
                    Name = Decode(_token);
                    if (Name is not { Length: > 0 })
                    {
                        return Fail();
                    }

                    return Go(State.AfterValue);
                }

                return ToolCallScanStep.Layout;
            case State.InArguments:
                ReadArguments(c);
                return ToolCallScanStep.Arguments;
            case State.AfterValue:
                if (IsWhitespace(c))
                {
                    return ToolCallScanStep.Layout;
                }

                if (c == ',' && _keys == 1)
                {
                    return Go(State.BeforeKey);
                }

                if (c == '}' && _keys == 2)
                {
                    _state = State.Done;
                    return ToolCallScanStep.End;
                }

                return Fail();
            default:
                // Done or Failed: nothing more belongs to this call.
                return ToolCallScanStep.Invalid;
        }
    }

    private void ReadArguments(char c)
    {
        if (_inString)
        {
            if (_escaped)
            {
                _escaped = false;
            }
            else if (c == '\\')
            {
                _escaped = true;
            }
            else if (c == '"')
            {
                _inString = false;
            }

            return;
        }

        switch (c)
        {
            case '"':
                _inString = true;
                break;
            case '{' or '[':
                _depth++;
                break;
            case '}' or ']':
                if (--_depth == 0)
                {
                    _state = State.AfterValue;
                }

                break;
        }
    }

    // Whether c closes the string being read into _token (the opening quote is _token[0]).
    private bool EndsString(char c)
    {
        if (_escaped)
        {
            _escaped = false;
            return false;
        }

        if (c == '\\')
        {
            _escaped = true;
            return false;
        }

        return c == '"' && _token.Length > 1;
    }

    private ToolCallScanStep Go(State next)
    {
        _state = next;
        return ToolCallScanStep.Layout;
    }

    private ToolCallScanStep Fail()
    {
        _state = State.Failed;
        return ToolCallScanStep.Invalid;
    }

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r';

    // A JSON string literal's value; null when it is not a valid literal (e.g. a raw control character).
    private static string? Decode(StringBuilder literal)
    {
        var text = literal.ToString();
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text.AsSpan(1, text.Length - 2).ContainsAnyInRange('\0', '\u001f') ? null : text[1..^1];
        }

        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
            return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
