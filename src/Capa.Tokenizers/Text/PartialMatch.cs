namespace Capa.Tokenizers.Text;

/// <summary>
/// The "hold back the tail" rule of streamed text, written once: how much of the end of the text so far may still
/// become one of some patterns when more text arrives (a stop sequence, a tool-call marker, a clean-up pattern), and so
/// must not be emitted yet. Used by <see cref="StreamingDetokenizer"/> and by the engine's stop-sequence matcher and
/// tool-call splitter.
/// </summary>
public static class PartialMatch
{
    /// <summary>The length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="pattern"/>; 0 when none is.</summary>
    public static int SuffixLength(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        for (var n = Math.Min(pattern.Length - 1, text.Length); n > 0; n--)
        {
            if (text[^n..].SequenceEqual(pattern[..n]))
            {
                return n;
            }
        }

        return 0;
    }

    /// <summary>The length of the longest suffix of <paramref name="text"/> that is a proper prefix of any of <paramref name="patterns"/>; 0 when none is.</summary>
    public static int SuffixLength(ReadOnlySpan<char> text, ReadOnlySpan<string> patterns)
    {
        var longest = 0;
        foreach (var pattern in patterns)
        {
            // Only a suffix longer than the one already found can change the answer.
            for (var n = Math.Min(pattern.Length - 1, text.Length); n > longest; n--)
            {
                if (text[^n..].SequenceEqual(pattern.AsSpan(0, n)))
                {
                    longest = n;
                    break;
                }
            }
        }

        return longest;
    }
}
