namespace Capa.Tokenizers.Models;

/// <summary>
/// Finds added tokens in text, leftmost-longest, as the tokenizers library does before normalization and
/// pre-tokenization; lstrip / rstrip tokens swallow the whitespace beside them and single_word tokens only
/// match as whole words.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Node _root = new();

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        foreach (var token in tokens)
        {
            if (token.Content.Length == 0)
            {
                continue;
            }

            var node = _root;
            foreach (char c in token.Content)
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new Node();
                    node.Children[c] = child;
                }

                node = child;
            }

            node.Token ??= token;
        }
    }

    public bool IsEmpty => _root.Children is null;

    /// <summary>Splits <paramref name="text"/> into segments; a segment's token is null for plain text.</summary>
    public List<(int Start, int End, AddedToken? Token)> Split(string text) => Split(text, null);

    /// <summary>
    /// Splits <paramref name="text"/> into segments; a special token is not matched where it would cover one of
    /// <paramref name="plainPositions"/> (ascending): there it is plain text, as with the reference's
    /// <c>split_special_tokens</c>. Added tokens that are not special match everywhere.
    /// </summary>
    public List<(int Start, int End, AddedToken? Token)> Split(string text, IReadOnlyList<int>? plainPositions)
    {
        var segments = new List<(int, int, AddedToken?)>();
        if (IsEmpty)
        {
            segments.Add((0, text.Length, null));
            return segments;
        }

        int plainStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            var (token, length) = LongestAt(text, i, plainPositions);
            if (token is null || (token.SingleWord && !IsWholeWord(text, i, i + length)))
            {
                i++;
                continue;
            }

            int start = i, end = i + length;
            if (token.LStrip)
            {
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (token.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            if (start > plainStart)
            {
                segments.Add((plainStart, start, null));
            }

            segments.Add((start, end, token));
            plainStart = end;
            i = end;
        }

        if (plainStart < text.Length)
        {
            segments.Add((plainStart, text.Length, null));
        }

        return segments;
    }

    private (AddedToken? Token, int Length) LongestAt(string text, int start, IReadOnlyList<int>? plainPositions)
    {
        var node = _root;
        AddedToken? best = null;
        int bestLength = 0;
        for (int j = start; j < text.Length; j++)
        {
            if (node.Children is null || !node.Children.TryGetValue(text[j], out node))
            {
                break;
            }

            if (node.Token is not null && !(node.Token.Special && plainPositions is { Count: > 0 } && Covers(plainPositions, start, j + 1)))
            {
                best = node.Token;
                bestLength = j - start + 1;
            }
        }

        return (best, bestLength);
    }

    // Whether a position in [start, end) is in the ascending list.
    internal static bool Covers(IReadOnlyList<int> positions, int start, int end)
    {
        int lo = 0, hi = positions.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (positions[mid] < start)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo < positions.Count && positions[lo] < end;
    }

    private static bool IsWholeWord(string text, int start, int end) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private sealed class Node
    {
        public Dictionary<char, Node>? Children;
        public AddedToken? Token;
    }
}
