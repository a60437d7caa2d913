namespace Capa.Constraints.Grammars;

/// <summary>
/// One level of the pushdown automaton's stack. Frames are immutable: a step builds new frames and shares
/// the parent chain, so branching (token trie walks, alternatives of anyOf) costs one allocation per level.
/// Record equality compares the whole chain, which is what deduplication of configurations needs; a frame
/// whose parent is <see cref="SentinelFrame"/> is the context-free key of the mask cache.
/// </summary>
internal abstract record Frame
{
    public Frame? Parent { get; init; }

    public abstract Node Node { get; }
}

/// <summary>Stands for "the rest of the stack, unknown": a frame completing into it defers to the real stack.</summary>
internal sealed record SentinelFrame : Frame
{
    public static readonly SentinelFrame Instance = new();

    public override Node Node => throw new InvalidOperationException("The sentinel frame has no node.");
}

/// <summary>The grammar's root value is complete: no further byte is accepted.</summary>
internal sealed record EndFrame : Frame
{
    public static readonly EndFrame Instance = new();

    public override Node Node => EndNode.Instance;
}

internal sealed class EndNode : Node
{
    public static readonly EndNode Instance = new();

    public override void Step(Frame frame, byte b, StepSink sink)
    {
    }

    public override Frame Initial(Frame? parent) => EndFrame.Instance;

    public override bool CanEndHere(Frame frame) => true;
}
