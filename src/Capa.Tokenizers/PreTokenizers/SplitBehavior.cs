namespace Capa.Tokenizers.PreTokenizers;

/// <summary>What a split does with the delimiters it finds (the tokenizers library's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>Applies a <see cref="SplitBehavior"/> to a text's delimiter matches.</summary>
internal static class Splitter
{
    /// <summary>
    /// Splits <paramref name="text"/> at <paramref name="matches"/> (sorted, non-overlapping) and appends the
    /// non-empty pieces; <paramref name="invert"/> treats the text between matches as the delimiters.
    /// </summary>
    public static void Split(string text, List<(int Start, int Length)> matches, SplitBehavior behavior, bool invert, List<string> output)
    {
        // Cover the whole text with (start, end, isDelimiter) spans.
        var spans = new List<(int Start, int End, bool IsMatch)>(matches.Count * 2 + 1);
        int last = 0;
        foreach (var (start, length) in matches)
        {
            if (start > last)
            {
                spans.Add((last, start, invert));
            }

            spans.Add((start, start + length, !invert));
            last = start + length;
        }

        if (last < text.Length)
        {
            spans.Add((last, text.Length, invert));
        }

        var merged = new List<(int Start, int End)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var s in spans)
                {
                    merged.Add((s.Start, s.End));
                }

                break;
            case SplitBehavior.Removed:
                foreach (var s in spans)
                {
                    if (!s.IsMatch)
                    {
                        merged.Add((s.Start, s.End));
                    }
                }

                break;
            case SplitBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var s in spans)
                {
                    if (s.IsMatch && !previousMatch && merged.Count > 0)
                    {
                        merged[^1] = (merged[^1].Start, s.End);
                    }
                    else
                    {
                        merged.Add((s.Start, s.End));
                    }

                    previousMatch = s.IsMatch;
                }

                break;
            }

            case SplitBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    var s = spans[i];
                    if (s.IsMatch && !previousMatch && merged.Count > 0)
                    {
                        merged[^1] = (s.Start, merged[^1].End);
                    }
                    else
                    {
                        merged.Add((s.Start, s.End));
                    }

                    previousMatch = s.IsMatch;
                }

                merged.Reverse();
                break;
            }

            case SplitBehavior.Contiguous:
            {
                bool previousMatch = false;
                for (int i = 0; i < spans.Count; i++)
                {
                    var s = spans[i];
                    if (i > 0 && s.IsMatch == previousMatch)
                    {
                        merged[^1] = (merged[^1].Start, s.End);
                    }
                    else
                    {
                        merged.Add((s.Start, s.End));
                    }

                    previousMatch = s.IsMatch;
                }

                break;
            }
        }

        foreach (var (start, end) in merged)
        {
            if (end > start)
            {
                output.Add(start == 0 && end == text.Length ? text : text[start..end]);
            }
        }
    }
}
