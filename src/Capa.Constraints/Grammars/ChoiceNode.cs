namespace Capa.Constraints.Grammars;

/// <summary>
/// Matches any of its alternatives. It has no frame of its own: entering it enters every alternative, and
/// the runtime follows each as a separate configuration until the bytes tell them apart.
/// </summary>
internal sealed class ChoiceNode(Node[] alternatives) : Node
{
    public Node[] Alternatives { get; set; } = alternatives;

    public override bool Nullable => Alternatives.Any(a => a.Nullable);

    public override Frame Initial(Frame? parent) =>
        throw new InvalidOperationException("A choice has no frame of its own.");

    public override void EnterAndFeed(Frame? parent, byte b, StepSink sink)
    {
        foreach (Node alternative in Alternatives)
        {
            alternative.EnterAndFeed(parent, b, sink);
        }
    }

    public override void EnterInitial(Frame? parent, List<Frame> output)
    {
        foreach (Node alternative in Alternatives)
        {
            alternative.EnterInitial(parent, output);
        }
    }

    public override void Step(Frame frame, byte b, StepSink sink) =>
        throw new InvalidOperationException("A choice has no frame of its own.");

    public override bool CanEndHere(Frame frame) => false;
}

/// <summary>A reference resolved after compilation (JSON schema <c>$ref</c>, possibly recursive).</summary>
internal sealed class RefNode : Node
{
    public Node? Target { get; set; }

    private Node Resolved => Target ?? throw new InvalidOperationException("Unresolved reference.");

    public override bool Nullable => false;

    public override Frame Initial(Frame? parent) => Resolved.Initial(parent);

    public override void EnterAndFeed(Frame? parent, byte b, StepSink sink) => Resolved.EnterAndFeed(parent, b, sink);

    public override void EnterInitial(Frame? parent, List<Frame> output) => Resolved.EnterInitial(parent, output);

    public override void Step(Frame frame, byte b, StepSink sink) =>
        throw new InvalidOperationException("A reference has no frame of its own.");

    public override bool CanEndHere(Frame frame) => false;
}
