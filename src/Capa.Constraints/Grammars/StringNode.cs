using Capa.Constraints.Schema;

namespace Capa.Constraints.Grammars;

/// <summary>
/// A JSON string: valid UTF-8 (a token may stop mid-character; the frame tracks the continuation bytes),
/// control characters only as escapes, <c>\uXXXX</c> escapes of non-surrogate code points. Optional rules:
/// length bounds in characters, and a pattern as a DFA over the decoded characters. With either rule,
/// characters outside the Basic Multilingual Plane are not produced, so UTF-16 length and code point count
/// agree for every validator; with a pattern, <c>\u</c> escapes are produced only for control characters.
/// </summary>
internal sealed class StringNode : Node
{
    private const int ExpectQuote = 0;
    private const int Body = 1;
    private const int Escape = 2;
    private const int Continuation = 3;
    private const int Hex = 4;

    private readonly int _min;
    private readonly int _max;
    private readonly CharDfa? _dfa;
    private readonly bool[][]? _live;
    private readonly int _bound;
    private readonly int[]? _distance;

    public StringNode(int minLength = 0, int maxLength = int.MaxValue, CharDfa? dfa = null)
    {
        _min = minLength;
        _max = maxLength;
        _dfa = dfa;
        if (dfa is not null)
        {
            _bound = maxLength != int.MaxValue ? maxLength : minLength;
            _live = BuildLiveness(dfa, minLength, maxLength, _bound);
            _distance = BuildDistances(dfa);
        }
    }

    private static int[] BuildDistances(CharDfa dfa)
    {
        var distance = new int[dfa.StateCount];
        for (int s = 0; s < distance.Length; s++)
        {
            distance[s] = dfa.IsAccepting(s) ? 0 : int.MaxValue / 2;
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int s = 0; s < distance.Length; s++)
            {
                for (int sym = 0; sym < 128; sym++)
                {
                    int t = dfa.Next(s, sym);
                    if (t >= 0 && distance[t] + 1 < distance[s])
                    {
                        distance[s] = distance[t] + 1;
                        changed = true;
                    }
                }
            }
        }

        return distance;
    }

    public override int RemainingHint(Frame frame)
    {
        var f = (StringFrame)frame;
        int chars = Math.Max(_min - f.Count, _distance is null ? 0 : Math.Min(_distance[f.DfaState], 1000));
        return f.Phase == Body ? chars : chars + 1;
    }

    /// <summary>Whether the rules admit at least one string.</summary>
    public bool IsSatisfiable => _min <= _max && (_live is null || _live[0][_dfa!.Start]);

    private bool Restricted => _dfa is not null || TracksCount;

    /// <summary>Only length bounds need the character count; a pattern alone is tracked by its automaton state.</summary>
    private bool TracksCount => _max != int.MaxValue || _min > 0;


    private static bool[][] BuildLiveness(CharDfa dfa, int min, int max, int bound)
    {
        var live = new bool[bound + 1][];
        for (int c = bound; c >= 0; c--)
        {
            var row = new bool[dfa.StateCount];
            if (c == bound && max == int.MaxValue)
            {
                // Past the minimum, any accepting state reachable at any length will do.
                for (int s = 0; s < dfa.StateCount; s++)
                {
                    row[s] = dfa.IsAccepting(s);
                }

                bool changed = true;
                while (changed)
                {
                    changed = false;
                    for (int s = 0; s < dfa.StateCount; s++)
                    {
                        if (row[s])
                        {
                            continue;
                        }

                        for (int sym = 0; sym < CharDfa.SymbolCount; sym++)
                        {
                            int t = dfa.Next(s, sym);
                            if (t >= 0 && row[t])
                            {
                                row[s] = changed = true;
                                break;
                            }
                        }
                    }
                }
            }
            else
            {
                for (int s = 0; s < dfa.StateCount; s++)
                {
                    bool ok = dfa.IsAccepting(s) && c >= min;
                    if (!ok && c < max && c < bound)
                    {
                        for (int sym = 0; sym < CharDfa.SymbolCount && !ok; sym++)
                        {
                            int t = dfa.Next(s, sym);
                            ok = t >= 0 && live[c + 1][t];
                        }
                    }
                    row[s] = ok;
                }
            }

            live[c] = row;
        }

        return live;
    }

    public override Frame Initial(Frame? parent) => new StringFrame(this, ExpectQuote, 0, _dfa?.Start ?? 0, 0, 0, 0, 0, 0) { Parent = parent };

    public override bool CanEndHere(Frame frame) => false;

    private bool CanClose(StringFrame f) => f.Count >= _min && (_dfa is null || _dfa.IsAccepting(f.DfaState));

    /// <summary>Adds a decoded character (a <see cref="CharDfa"/> symbol) to the frame's counters.</summary>
    private bool TryAddChar(StringFrame f, int symbol, out int count, out int state)
    {
        // Plain strings track nothing, so their frames (and cached masks) stay the same along the string.
        count = TracksCount ? f.Count + 1 : f.Count;
        state = f.DfaState;
        if (count > _max)
        {
            return false;
        }

        if (_dfa is null)
        {
            return true;
        }

        state = _dfa.Next(f.DfaState, symbol);
        return state >= 0 && _live![Math.Min(count, _bound)][state];
    }

    private bool CanAddSymbol(StringFrame f, int symbol) => TryAddChar(f, symbol, out _, out _);

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (StringFrame)frame;
        switch (f.Phase)
        {
            case ExpectQuote:
                if (b == '"')
                {
                    sink.Emit(f with { Phase = Body });
                }

                return;
            case Body:
                StepBody(f, b, sink);
                return;
            case Escape:
                StepEscape(f, b, sink);
                return;
            case Continuation:
                StepContinuation(f, b, sink);
                return;
            case Hex:
                StepHex(f, b, sink);
                return;
        }
    }

    private void StepBody(StringFrame f, byte b, StepSink sink)
    {
        if (b == '"')
        {
            if (CanClose(f))
            {
                sink.Done(f, b, consumed: true);
            }

            return;
        }

        if (b == '\\')
        {
            if (CanStartEscape(f))
            {
                sink.Emit(f with { Phase = Escape });
            }

            return;
        }

        if (b < 0x20)
        {
            return;
        }

        if (b < 0x80)
        {
            if (TryAddChar(f, b, out int count, out int state))
            {
                sink.Emit(Restricted ? f with { Count = count, DfaState = state } : f);
            }

            return;
        }

        int need;
        int lo = 0x80;
        int hi = 0xBF;
        int cp;
        switch (b)
        {
            case >= 0xC2 and <= 0xDF:
                need = 1;
                cp = b & 0x1F;
                break;
            case >= 0xE0 and <= 0xEF:
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0)
                {
                    lo = 0xA0;
                }
                else if (b == 0xED)
                {
                    hi = 0x9F;
                }

                break;
            case >= 0xF0 and <= 0xF4:
                if (Restricted)
                {
                    return;
                }

                need = 3;
                cp = b & 0x07;
                if (b == 0xF0)
                {
                    lo = 0x90;
                }
                else if (b == 0xF4)
                {
                    hi = 0x8F;
                }

                break;
            default:
                return;
        }

        // Every lead byte can complete to an ordinary non-ASCII character, so checking that class suffices.
        if (CanAddSymbol(f, CharDfa.NonAscii))
        {
            sink.Emit(f with { Phase = Continuation, Need = need, Lo = lo, Hi = hi, CodePoint = cp });
        }
    }

    private void StepContinuation(StringFrame f, byte b, StepSink sink)
    {
        if (b < f.Lo || b > f.Hi)
        {
            return;
        }

        int cp = (f.CodePoint << 6) | (b & 0x3F);
        if (f.Need > 1)
        {
            sink.Emit(f with { Need = f.Need - 1, Lo = 0x80, Hi = 0xBF, CodePoint = cp });
            return;
        }

        if (!Restricted)
        {
            sink.Emit(f with { Phase = Body, Need = 0, Lo = 0, Hi = 0, CodePoint = 0 });
            return;
        }

        if (TryAddChar(f, CharDfa.Classify(cp), out int count, out int state))
        {
            sink.Emit(f with { Phase = Body, Need = 0, Lo = 0, Hi = 0, CodePoint = 0, Count = count, DfaState = state });
        }
    }

    private static ReadOnlySpan<byte> ShortEscapes => "\"\\/bfnrt"u8;

    private static int ShortEscapeValue(byte b) => b switch
    {
        (byte)'"' => '"',
        (byte)'\\' => '\\',
        (byte)'/' => '/',
        (byte)'b' => 0x08,
        (byte)'f' => 0x0C,
        (byte)'n' => 0x0A,
        (byte)'r' => 0x0D,
        (byte)'t' => 0x09,
        _ => -1,
    };

    private bool CanStartEscape(StringFrame f)
    {
        if (_dfa is null)
        {
            return f.Count < _max;
        }

        foreach (byte e in ShortEscapes)
        {
            if (CanAddSymbol(f, ShortEscapeValue(e)))
            {
                return true;
            }
        }

        return CanUseUnicodeEscape(f);
    }

    private bool CanUseUnicodeEscape(StringFrame f)
    {
        for (int c = 0; c < 0x20; c++)
        {
            if (CanAddSymbol(f, c))
            {
                return true;
            }
        }

        return false;
    }

    private void StepEscape(StringFrame f, byte b, StepSink sink)
    {
        int value = ShortEscapeValue(b);
        if (value >= 0)
        {
            if (TryAddChar(f, value, out int count, out int state))
            {
                sink.Emit(f with { Phase = Body, Count = count, DfaState = state });
            }

            return;
        }

        if (b == 'u' && (_dfa is null || CanUseUnicodeEscape(f)))
        {
            sink.Emit(f with { Phase = Hex, Need = 0, CodePoint = 0 });
        }
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private void StepHex(StringFrame f, byte b, StepSink sink)
    {
        int h = HexValue(b);
        if (h < 0)
        {
            return;
        }

        int digits = f.Need; // digits read so far
        int cp = (f.CodePoint << 4) | h;
        if (_dfa is null)
        {
            // Surrogates are excluded: \uD800-\uDFFF alone is not a character.
            if (digits == 1 && f.CodePoint == 0xD && h >= 8)
            {
                return;
            }
        }
        else
        {
            // With a pattern only control characters are escaped as \u00XX.
            if ((digits < 2 && h != 0) || (digits == 2 && h > 1))
            {
                return;
            }

            if (digits == 2)
            {
                bool any = false;
                for (int d = 0; d < 16 && !any; d++)
                {
                    any = CanAddSymbol(f, (h << 4) | d);
                }

                if (!any)
                {
                    return;
                }
            }
        }

        if (digits < 3)
        {
            sink.Emit(f with { Need = digits + 1, CodePoint = cp });
            return;
        }

        if (TryAddChar(f, CharDfa.Classify(cp), out int count, out int state))
        {
            sink.Emit(f with { Phase = Body, Need = 0, CodePoint = 0, Count = count, DfaState = state });
        }
    }
}

internal sealed record StringFrame(StringNode Owner, int Phase, int Count, int DfaState, int Need, int Lo, int Hi, int CodePoint, int HexDigits) : Frame
{
    public override Node Node => Owner;
}
