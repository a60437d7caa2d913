using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>
/// String rules of the reference renderer (@huggingface/jinja, i.e. JavaScript): what counts as whitespace for
/// <c>trim</c> and whitespace control, how <c>title</c> capitalizes, how strings are split into characters.
/// </summary>
internal static class TextRules
{
    /// <summary>ECMAScript WhiteSpace and LineTerminator code units (what <c>String.prototype.trim</c> removes).</summary>
    public static bool IsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202F' or '\u205F' or '\u3000' or '\uFEFF' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i]))
        {
            i++;
        }

        return i == 0 ? s : s[i..];
    }

    public static string TrimEnd(string s)
    {
        int end = s.Length;
        while (end > 0 && IsWhitespace(s[end - 1]))
        {
            end--;
        }

        return end == s.Length ? s : s[..end];
    }

    /// <summary>Removes any of <paramref name="chars"/> from both ends (Python's <c>str.strip(chars)</c>).</summary>
    public static string Strip(string s, string chars, bool start, bool end)
    {
        int from = 0, to = s.Length;
        if (start)
        {
            while (from < to && chars.Contains(s[from], StringComparison.Ordinal))
            {
                from++;
            }
        }

        if (end)
        {
            while (to > from && chars.Contains(s[to - 1], StringComparison.Ordinal))
            {
                to--;
            }
        }

        return s[from..to];
    }

    private static bool IsAsciiWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    /// <summary>Upper-cases each word character that follows a non-word character (JavaScript's <c>/\b\w/g</c>).</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            bool boundary = IsAsciiWord(c) && (i == 0 || !IsAsciiWord(s[i - 1]));
            sb.Append(boundary ? char.ToUpperInvariant(c) : c);
        }

        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : s[..1].ToUpperInvariant() + s[1..];

    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The code points of <paramref name="s"/> as strings (JavaScript's <c>Array.from(string)</c>).</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                result.Add(s[i].ToString());
            }
        }

        return result;
    }
}
