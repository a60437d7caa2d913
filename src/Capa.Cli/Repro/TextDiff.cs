using System.Globalization;
using System.Text;

namespace Capa.Cli.Repro;

/// <summary>A piece of a diff line; <see cref="Changed"/> marks the words that differ from the paired line.</summary>
internal readonly record struct DiffSpan(string Text, bool Changed);

/// <summary>One line of a line diff, with word-level spans when it replaces (or is replaced by) another line.</summary>
internal sealed record DiffLine(DiffKind Kind, string Text, IReadOnlyList<DiffSpan> Spans);

/// <summary>The line diff of two texts.</summary>
internal sealed record TextDiffResult(IReadOnlyList<DiffLine> Lines)
{
    /// <summary>True when any line was deleted or inserted.</summary>
    public bool HasDifferences => Lines.Any(l => l.Kind != DiffKind.Equal);
}

/// <summary>
/// Diffs two texts line by line, then, inside each changed region, pairs the i-th deleted line with the
/// i-th inserted one and diffs those over words, so a one-word change shows as one word, not two whole lines.
/// </summary>
internal static class TextDiff
{
    /// <summary>The share of the longer line that must be unchanged (whitespace aside) for word-level highlights.</summary>
    internal const double MinSharedFraction = 0.4;

    public static TextDiffResult Compute(string oldText, string newText)
    {
        var oldLines = SplitLines(oldText);
        var newLines = SplitLines(newText);
        var edits = SequenceDiff.Compute(oldLines, newLines, StringComparer.Ordinal);
        var lines = new List<DiffLine>(edits.Count);
        int i = 0;
        while (i < edits.Count)
        {
            if (edits[i].Kind == DiffKind.Equal)
            {
                lines.Add(new DiffLine(DiffKind.Equal, edits[i].Value, [new DiffSpan(edits[i].Value, false)]));
                i++;
                continue;
            }

            var deleted = new List<string>();
            var inserted = new List<string>();
            while (i < edits.Count && edits[i].Kind != DiffKind.Equal)
            {
                (edits[i].Kind == DiffKind.Delete ? deleted : inserted).Add(edits[i].Value);
                i++;
            }

            var deletedSpans = deleted.Select(l => (IReadOnlyList<DiffSpan>)[new DiffSpan(l, true)]).ToList();
            var insertedSpans = inserted.Select(l => (IReadOnlyList<DiffSpan>)[new DiffSpan(l, true)]).ToList();
            for (int p = 0; p < Math.Min(deleted.Count, inserted.Count); p++)
            {
                if (WordDiff(deleted[p], inserted[p]) is { } words)
                {
                    (deletedSpans[p], insertedSpans[p]) = words;
                }
            }

            for (int p = 0; p < deleted.Count; p++)
            {
                lines.Add(new DiffLine(DiffKind.Delete, deleted[p], deletedSpans[p]));
            }

            for (int p = 0; p < inserted.Count; p++)
            {
                lines.Add(new DiffLine(DiffKind.Insert, inserted[p], insertedSpans[p]));
            }
        }

        return new TextDiffResult(lines);
    }

    /// <summary>Splits at \r\n, \n and \r; an empty text has no lines and a final line break adds none.</summary>
    public static IReadOnlyList<string> SplitLines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is '\n' or '\r')
            {
                lines.Add(text[start..i]);
                if (text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            lines.Add(text[start..]);
        }

        return lines;
    }

    /// <summary>
    /// Splits a line into words (runs of letters, digits and marks), whitespace runs, and single other characters.
    /// Ideographs, kana and hangul syllables stand alone: Chinese and Japanese put no spaces between words, and a
    /// character is the smallest unit a reader compares. Concatenating the tokens gives the line back.
    /// </summary>
    public static IReadOnlyList<string> Tokenize(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var tokens = new List<string>();
        var current = new StringBuilder();
        var currentClass = TokenClass.None;
        foreach (var rune in line.EnumerateRunes())
        {
            var cls = Classify(rune);
            if (cls != currentClass || cls == TokenClass.Single)
            {
                if (current.Length > 0)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                }

                currentClass = cls;
            }

            current.Append(rune.ToString());
        }

        if (current.Length > 0)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }

    /// <summary>
    /// Word spans of a replaced line and its replacement, or null when the two share too little for word highlights
    /// to help (two unrelated sentences would otherwise light up everywhere but a few common words).
    /// </summary>
    private static (IReadOnlyList<DiffSpan> Old, IReadOnlyList<DiffSpan> New)? WordDiff(string oldLine, string newLine)
    {
        var edits = SequenceDiff.Compute(Tokenize(oldLine), Tokenize(newLine), StringComparer.Ordinal);
        int shared = edits.Where(e => e.Kind == DiffKind.Equal && !string.IsNullOrWhiteSpace(e.Value)).Sum(e => e.Value.Length);
        if (shared < MinSharedFraction * Math.Max(oldLine.Length, newLine.Length))
        {
            return null;
        }

        var oldSpans = new List<DiffSpan>();
        var newSpans = new List<DiffSpan>();
        foreach (var edit in edits)
        {
            if (edit.Kind != DiffKind.Insert)
            {
                Append(oldSpans, edit.Value, edit.Kind == DiffKind.Delete);
            }

            if (edit.Kind != DiffKind.Delete)
            {
                Append(newSpans, edit.Value, edit.Kind == DiffKind.Insert);
            }
        }

        return (oldSpans, newSpans);
    }

    /// <summary>Merges neighbours of the same state, so renderers emit one highlight per changed run.</summary>
    private static void Append(List<DiffSpan> spans, string text, bool changed)
    {
        if (spans.Count > 0 && spans[^1].Changed == changed)
        {
            spans[^1] = new DiffSpan(spans[^1].Text + text, changed);
        }
        else
        {
            spans.Add(new DiffSpan(text, changed));
        }
    }

    private static TokenClass Classify(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune))
        {
            return TokenClass.Space;
        }

        if (IsCjk(rune.Value))
        {
            return TokenClass.Single;
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.ConnectorPunctuation => TokenClass.Word,
            _ => TokenClass.Single,
        };
    }

    private static bool IsCjk(int c) =>
        c is (>= 0x3040 and <= 0x30FF) // hiragana, katakana
            or (>= 0x3400 and <= 0x4DBF) // CJK extension A
            or (>= 0x4E00 and <= 0x9FFF) // CJK unified ideographs
            or (>= 0xAC00 and <= 0xD7AF) // hangul syllables
            or (>= 0xF900 and <= 0xFAFF) // CJK compatibility ideographs
            or (>= 0x20000 and <= 0x3FFFF); // CJK extensions B and beyond

    private enum TokenClass
    {
        None,
        Word,
        Space,
        Single,
    }
}
