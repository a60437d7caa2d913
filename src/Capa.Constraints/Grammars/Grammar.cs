using System.Text;

namespace Capa.Constraints.Grammars;

/// <summary>
/// A compiled, immutable grammar over bytes: what a constrained sequence may produce. Grammars compose
/// (<see cref="Sequence"/>, <see cref="Choice"/>, <see cref="Repeat"/>), so a tool call such as
/// <c>&lt;tool_call&gt;\n{"name": ..., "arguments": ...}\n&lt;/tool_call&gt;</c> is literals around a JSON
/// grammar. Build JSON grammars with <see cref="JsonGrammar"/>. Thread-safe; share one per schema.
/// </summary>
public sealed class Grammar
{
    internal Grammar(Node root, string description)
    {
        Root = root;
        Description = description;
    }

    internal Node Root { get; }

    /// <summary>A short human-readable description (for logs and errors).</summary>
    public string Description { get; }

    /// <summary>Exactly the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static Grammar Literal(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return new Grammar(new LiteralNode(Encoding.UTF8.GetBytes(text)), $"literal {text}");
    }

    /// <summary>Exactly <paramref name="bytes"/> (not empty).</summary>
    public static Grammar Literal(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            throw new ArgumentException("A literal must not be empty.", nameof(bytes));
        }

        return new Grammar(new LiteralNode(bytes.ToArray()), $"literal of {bytes.Length} bytes");
    }

    /// <summary>The parts one after another.</summary>
    public static Grammar Sequence(params Grammar[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0)
        {
            throw new ArgumentException("A sequence needs at least one part.", nameof(parts));
        }

        return new Grammar(new SequenceNode([.. parts.Select(p => p.Root)]), $"sequence({string.Join(", ", parts.Select(p => p.Description))})");
    }

    /// <summary>Any one of the alternatives.</summary>
    public static Grammar Choice(params Grammar[] alternatives)
    {
        ArgumentNullException.ThrowIfNull(alternatives);
        if (alternatives.Length == 0)
        {
            throw new ArgumentException("A choice needs at least one alternative.", nameof(alternatives));
        }

        return new Grammar(new ChoiceNode([.. alternatives.Select(p => p.Root)]), $"choice({string.Join(" | ", alternatives.Select(p => p.Description))})");
    }

    /// <summary><paramref name="item"/> between <paramref name="min"/> and <paramref name="max"/> times, with <paramref name="separator"/> between items.</summary>
    public static Grammar Repeat(Grammar item, int min, int max, Grammar? separator = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, Math.Max(min, 1));
        if (item.Root.Nullable)
        {
            throw new ArgumentException("A repeated grammar must not match the empty input.", nameof(item));
        }

        return new Grammar(new RepeatNode(item.Root, separator?.Root, min, max), $"repeat({item.Description}, {min}..{max})");
    }

    /// <summary>Optional whitespace (space, tab, CR, LF), at most <paramref name="max"/> bytes.</summary>
    public static Grammar Whitespace(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return new Grammar(new WhitespaceNode(max), $"whitespace(0..{max})");
    }

    /// <inheritdoc/>
    public override string ToString() => Description;
}
