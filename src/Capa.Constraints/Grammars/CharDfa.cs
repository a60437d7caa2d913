namespace Capa.Constraints.Grammars;

/// <summary>
/// A deterministic automaton over decoded string characters, used for JSON schema <c>pattern</c> and
/// <c>format</c>. Its alphabet is the 128 ASCII characters plus three classes of non-ASCII characters, so
/// that classes whose meaning differs between regex engines (Unicode whitespace, line separators) can be
/// kept out of the strings the automaton admits. Dead states are removed: every state reaches acceptance.
/// </summary>
internal sealed class CharDfa
{
    /// <summary>A non-ASCII character that no regex engine treats as whitespace or a line terminator.</summary>
    public const int NonAscii = 128;

    /// <summary>A non-ASCII character that some engine treats as whitespace (U+00A0, U+3000, ...).</summary>
    public const int NonAsciiSpace = 129;

    /// <summary>U+2028 and U+2029.</summary>
    public const int LineSeparator = 130;

    public const int SymbolCount = 131;

    private readonly int[] _next;
    private readonly bool[] _accepting;

    public CharDfa(int[] next, bool[] accepting, int start)
    {
        _next = next;
        _accepting = accepting;
        Start = start;
    }

    public int Start { get; }

    public int StateCount => _accepting.Length;

    public int Next(int state, int symbol) => _next[(state * SymbolCount) + symbol];

    public bool IsAccepting(int state) => _accepting[state];

    public static int Classify(int codePoint) => codePoint switch
    {
        < 0x80 => codePoint,
        0x2028 or 0x2029 => LineSeparator,
        0x85 or 0xA0 or 0x1680 or 0x180E or (>= 0x2000 and <= 0x200A) or 0x202F or 0x205F or 0x3000 or 0xFEFF => NonAsciiSpace,
        _ => NonAscii,
    };

    /// <summary>Whether the automaton accepts <paramref name="text"/> (for tests and compile-time checks).</summary>
    public bool Matches(string text)
    {
        int state = Start;
        foreach (System.Text.Rune rune in text.EnumerateRunes())
        {
            state = Next(state, Classify(rune.Value));
            if (state < 0)
            {
                return false;
            }
        }

        return IsAccepting(state);
    }
}
