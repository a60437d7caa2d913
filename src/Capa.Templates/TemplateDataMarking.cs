namespace Capa.Templates;

/// <summary>
/// What <see cref="ChatTemplate.RenderMarked"/> must keep data from writing: the control texts (a tokenizer's special
/// tokens) that only the template's own markup may produce, and the variables that are markup rather than data.
/// Build once per model and reuse: construction indexes the texts.
/// </summary>
public sealed class TemplateDataMarking
{
    // Partial occurrences shorter than this at the edges of a data string are left unmarked: a one-character piece
    // such as '>' is too common to mean anything, and no template writes the other part of a token beside data.
    private const int MinEdgePiece = 2;

    /// <summary>Creates the marking.</summary>
    /// <param name="controlTexts">Texts data must not produce as markup (e.g. <c>&lt;|im_end|&gt;</c>).</param>
    /// <param name="markupVariables">Variables whose strings are markup, not data (e.g. <c>bos_token</c>, <c>eos_token</c>).</param>
    public TemplateDataMarking(IEnumerable<string> controlTexts, IEnumerable<string> markupVariables)
    {
        ArgumentNullException.ThrowIfNull(controlTexts);
        ArgumentNullException.ThrowIfNull(markupVariables);
        MarkupVariables = new HashSet<string>(markupVariables, StringComparer.Ordinal);
        var firstChars = new HashSet<char>();
        foreach (string text in controlTexts.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal))
        {
            var node = Root;
            foreach (char c in text)
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new TrieNode();
                    node.Children[c] = child;
                }

                node = child;
            }

            node.IsEnd = true;
            firstChars.Add(text[0]);
            for (int k = MinEdgePiece; k < text.Length; k++)
            {
                EdgeSuffixes.Add(text[^k..]);
            }

            MaxLength = Math.Max(MaxLength, text.Length);
        }

        FirstChars = System.Buffers.SearchValues.Create([.. firstChars]);
    }

    /// <summary>Variables whose strings the template may write as markup.</summary>
    public IReadOnlySet<string> MarkupVariables { get; }

    internal TrieNode Root { get; } = new();

    internal System.Buffers.SearchValues<char> FirstChars { get; }

    internal HashSet<string> EdgeSuffixes { get; } = new(StringComparer.Ordinal);

    internal int MaxLength { get; }

    internal sealed class TrieNode
    {
        public Dictionary<char, TrieNode>? Children;
        public bool IsEnd;
    }
}

/// <summary>
/// A template rendered by <see cref="ChatTemplate.RenderMarked"/>: the text, identical to <see cref="ChatTemplate.Render(IReadOnlyDictionary{string, object?})"/>'s,
/// and the positions in it where text that came from data starts a control text (or a piece of one at the edge of a
/// data string). A control token that covers such a position was written by data and is to be read as plain text.
/// </summary>
/// <param name="Text">The rendered text.</param>
/// <param name="DataPositions">Marked positions in <paramref name="Text"/>, ascending.</param>
public sealed record MarkedText(string Text, IReadOnlyList<int> DataPositions);
