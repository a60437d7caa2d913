using System.Text;

namespace Capa.Engine.Speech.Text;

/// <summary>
/// Cuts text into sentences for streaming synthesis: after . ! ? ; and their full-width forms (。！？；), ellipses and
/// line breaks, keeping the terminator with its sentence. A sentence longer than <see cref="MaxPieceLength"/> is cut
/// again at a comma or a space, so no piece delays the stream for long. Pieces without a letter or digit (stray
/// punctuation) are dropped: they would only be silence.
/// </summary>
public static class SentenceSplitter
{
    /// <summary>Longest piece, in characters, before a long sentence is cut at a pause.</summary>
    public const int MaxPieceLength = 400;

    /// <summary>The pieces of <paramref name="text"/>, in order, trimmed.</summary>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '\r' or '\n')
            {
                Flush(current, pieces);
                continue;
            }

            current.Append(c);
            var endsHere = c switch
            {
                '。' or '！' or '？' or '；' or '…' => true,

                // An ASCII terminator ends a sentence only before a space, a line break or the end: "3.14" and "e.g.x" stay whole.
                '.' or '!' or '?' or ';' => i + 1 >= text.Length || char.IsWhiteSpace(text[i + 1]) || !char.IsAsciiLetterOrDigit(text[i + 1]),
                _ => false,
            };

            // Keep runs of terminators and closing quotes together: "Really?!" and "He said 'no.'"
            while (endsHere && i + 1 < text.Length && text[i + 1] is '.' or '!' or '?' or '。' or '！' or '？' or '"' or '\'' or '”' or '’' or '」' or '）' or ')')
            {
                current.Append(text[++i]);
            }

            if (endsHere || current.Length >= MaxPieceLength)
            {
                if (!endsHere)
                {
                    CutAtPause(current, pieces);
                }
                else
                {
                    Flush(current, pieces);
                }
            }
        }

        Flush(current, pieces);
        return pieces;
    }

    private static void CutAtPause(StringBuilder current, List<string> pieces)
    {
        var text = current.ToString();
        var cut = text.LastIndexOfAny([',', '，', '、', ':', '：']);
        if (cut < MaxPieceLength / 2)
        {
            cut = text.LastIndexOf(' ');
        }

        if (cut < MaxPieceLength / 2)
        {
            // No pause to cut at (a long run of CJK or one huge word): cut here.
            Flush(current, pieces);
            return;
        }

        current.Clear();
        Add(text[..(cut + 1)], pieces);
        current.Append(text.AsSpan(cut + 1));
    }

    private static void Flush(StringBuilder current, List<string> pieces)
    {
        Add(current.ToString(), pieces);
        current.Clear();
    }

    private static void Add(string piece, List<string> pieces)
    {
        piece = piece.Trim();
        foreach (var c in piece)
        {
            if (char.IsLetterOrDigit(c))
            {
                pieces.Add(piece);
                return;
            }
        }
    }
}
