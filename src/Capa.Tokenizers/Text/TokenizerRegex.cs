using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Capa.Tokenizers.Text;

/// <summary>
/// A pattern from tokenizer.json (written for Oniguruma, matched on code points) run on .NET's regex engine,
/// which matches UTF-16 code units. Two differences are bridged:
/// <list type="bullet">
/// <item>Characters outside the BMP are surrogate pairs to .NET, so <c>\p{L}</c> misses a supplementary letter
/// and an optional single-character class can take half of an emoji. Text holding surrogate pairs is matched
/// in a narrowed copy where each supplementary code point is one BMP stand-in of the same general category,
/// and the match positions are mapped back.</item>
/// <item>Inline case-insensitive groups <c>(?i:...)</c> fold ASCII letters only, as the reference
/// implementation does, rather than .NET's Unicode case equivalences.</item>
/// </list>
/// </summary>
internal sealed class TokenizerRegex
{
    private static readonly Lazy<Dictionary<UnicodeCategory, char>> StandIns = new(BuildStandIns);
    private readonly Regex _regex;

    private TokenizerRegex(Regex regex, string source, bool isLiteral = false)
    {
        _regex = regex;
        Source = source;
        IsLiteral = isLiteral;
    }

    /// <summary>Whether the pattern is a literal string (<see cref="Source"/>), not a regex.</summary>
    public bool IsLiteral { get; }

    /// <summary>The pattern as written in tokenizer.json.</summary>
    public string Source { get; }

    /// <summary>Compiles an Oniguruma-style pattern.</summary>
    /// <exception cref="FormatException">The pattern cannot be expressed on .NET's engine.</exception>
    public static TokenizerRegex FromOniguruma(string pattern)
    {
        string translated = Translate(pattern);
        try
        {
            return new TokenizerRegex(new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Multiline | RegexOptions.Compiled), pattern);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Unsupported tokenizer regex '{pattern}': {e.Message}", e);
        }
    }

    /// <summary>A pattern matching <paramref name="literal"/> exactly.</summary>
    public static TokenizerRegex FromLiteral(string literal) =>
        new(new Regex(Regex.Escape(literal), RegexOptions.CultureInvariant), literal, isLiteral: true);

    /// <summary>The non-empty matches in <paramref name="text"/> as (start, length) in UTF-16 units of the text.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (!HasSurrogates(text))
        {
            for (var m = _regex.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Length > 0)
                {
                    result.Add((m.Index, m.Length));
                }
            }

            return result;
        }

        var (narrow, offsets) = Narrow(text);
        for (var m = _regex.Match(narrow); m.Success; m = m.NextMatch())
        {
            if (m.Length > 0)
            {
                int start = offsets[m.Index];
                result.Add((start, offsets[m.Index + m.Length] - start));
            }
        }

        return result;
    }

    /// <summary>Replaces every match with <paramref name="replacement"/> (taken literally).</summary>
    public string Replace(string text, string replacement)
    {
        var matches = Matches(text);
        if (matches.Count == 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        int last = 0;
        foreach (var (start, length) in matches)
        {
            sb.Append(text, last, start - last).Append(replacement);
            last = start + length;
        }

        return sb.Append(text, last, text.Length - last).ToString();
    }

    private static bool HasSurrogates(string text)
    {
        foreach (char c in text)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static (string Narrow, int[] Offsets) Narrow(string text)
    {
        var standIns = StandIns.Value;
        var sb = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            offsets.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                sb.Append(standIns.TryGetValue(category, out char standIn) ? standIn : '\uFFFF');
                i++;
            }
            else
            {
                sb.Append(text[i]);
            }
        }

        offsets.Add(text.Length);
        return (sb.ToString(), offsets.ToArray());
    }

    private static Dictionary<UnicodeCategory, char> BuildStandIns()
    {
        // One BMP character per general category, outside ASCII and Latin-1 so that no literal in a
        // tokenizer pattern is likely to name it, and never whitespace.
        var map = new Dictionary<UnicodeCategory, char>();
        for (int c = 0x0250; c <= 0xFFFD; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            char ch = (char)c;
            var category = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (!map.ContainsKey(category) && !char.IsWhiteSpace(ch))
            {
                map[category] = ch;
            }
        }

        return map;
    }

    /// <summary>Rewrites the Oniguruma constructs tokenizer.json files use into .NET syntax.</summary>
    internal static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var foldStack = new Stack<bool>();
        bool fold = false;
        bool lastWasQuantifier = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\' when i + 1 < pattern.Length:
                {
                    char next = pattern[i + 1];
                    if (next == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                    {
                        int close = pattern.IndexOf('}', i + 3);
                        if (close < 0)
                        {
                            throw new FormatException($"Unterminated \\x{{...}} in tokenizer regex '{pattern}'.");
                        }

                        int cp = int.Parse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                        AppendCodePoint(sb, cp, fold);
                        i = close;
                    }
                    else if (next == 'h')
                    {
                        sb.Append("[0-9A-Fa-f]");
                        i++;
                    }
                    else if (next == 'H')
                    {
                        sb.Append("[^0-9A-Fa-f]");
                        i++;
                    }
                    else if (next is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                    {
                        int close = ClosingBrace(pattern, i);
                        sb.Append(pattern, i, close - i + 1);
                        i = close;
                    }
                    else
                    {
                        sb.Append(c).Append(next);
                        i++;
                    }

                    lastWasQuantifier = false;
                    break;
                }

                case '[':
                    i = CopyClass(pattern, i, sb, fold);
                    lastWasQuantifier = false;
                    break;
                case '(':
                    foldStack.Push(fold);
                    if (string.CompareOrdinal(pattern, i, "(?i:", 0, 4) == 0)
                    {
                        fold = true;
                        sb.Append("(?:");
                        i += 3;
                    }
                    else if (string.CompareOrdinal(pattern, i, "(?>", 0, 3) == 0)
                    {
                        sb.Append("(?>");
                        i += 2;
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    lastWasQuantifier = false;
                    break;
                case ')':
                    fold = foldStack.Count > 0 && foldStack.Pop();
                    sb.Append(c);
                    lastWasQuantifier = false;
                    break;
                case '+' when lastWasQuantifier:
                    // Possessive quantifier: .NET has none; matched greedily as the reference implementation does.
                    lastWasQuantifier = false;
                    break;
                case '+' or '*' or '?':
                    sb.Append(c);
                    lastWasQuantifier = c != '?' || !(sb.Length >= 2 && sb[^2] is '+' or '*' or '?' or '}');
                    break;
                case '}':
                    sb.Append(c);
                    lastWasQuantifier = true;
                    break;
                default:
                    if (fold && char.IsAsciiLetter(c))
                    {
                        sb.Append('[').Append(char.ToLowerInvariant(c)).Append(char.ToUpperInvariant(c)).Append(']');
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    lastWasQuantifier = false;
                    break;
            }
        }

        return sb.ToString();
    }

    private static int ClosingBrace(string pattern, int escapeStart)
    {
        int close = pattern.IndexOf('}', escapeStart + 3);
        return close >= 0 ? close : throw new FormatException($"Unterminated \\p{{...}} in tokenizer regex '{pattern}'.");
    }

    private static void AppendCodePoint(StringBuilder sb, int cp, bool fold)
    {
        if (fold && cp < 128 && char.IsAsciiLetter((char)cp))
        {
            sb.Append('[').Append(char.ToLowerInvariant((char)cp)).Append(char.ToUpperInvariant((char)cp)).Append(']');
        }
        else if (cp <= 0xFFFF)
        {
            sb.Append("\\u").Append(cp.ToString("X4", CultureInfo.InvariantCulture));
        }
        else
        {
            sb.Append(Regex.Escape(char.ConvertFromUtf32(cp)));
        }
    }

    private static int CopyClass(string pattern, int start, StringBuilder sb, bool fold)
    {
        // Copies a character class verbatim; under ASCII folding, letters gain their other case.
        int i = start;
        var extra = new StringBuilder();
        sb.Append('[');
        i++;
        if (i < pattern.Length && pattern[i] == '^')
        {
            sb.Append('^');
            i++;
        }

        bool first = true;
        for (; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == ']' && !first)
            {
                sb.Append(extra).Append(']');
                return i;
            }

            first = false;
            if (c == '\\' && i + 1 < pattern.Length)
            {
                if (pattern[i + 1] is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = ClosingBrace(pattern, i);
                    sb.Append(pattern, i, close - i + 1);
                    i = close;
                }
                else
                {
                    sb.Append(c).Append(pattern[i + 1]);
                    i++;
                }

                continue;
            }

            if (c == '[')
            {
                throw new FormatException($"Nested character classes are not supported in tokenizer regex '{pattern}'.");
            }

            sb.Append(c);
            if (fold && char.IsAsciiLetter(c))
            {
                extra.Append(char.IsAsciiLetterLower(c) ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            }
        }

        throw new FormatException($"Unterminated character class in tokenizer regex '{pattern}'.");
    }
}
