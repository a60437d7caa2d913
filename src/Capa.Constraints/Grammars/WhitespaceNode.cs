namespace Capa.Constraints.Grammars;

/// <summary>Optional JSON whitespace, at most <c>max</c> bytes, so that output cannot loop on blanks.</summary>
internal sealed class WhitespaceNode(int max) : Node
{
    public override bool Nullable => true;

    public override Frame Initial(Frame? parent) => new WhitespaceFrame(this, 0) { Parent = parent };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (WhitespaceFrame)frame;
        if (IsWhitespace(b) && f.Count < max)
        {
            sink.Emit(f with { Count = f.Count + 1 });
        }
        else
        {
            sink.Done(f, b, consumed: false);
        }
    }

    public override bool CanEndHere(Frame frame) => true;
}

internal sealed record WhitespaceFrame(WhitespaceNode Owner, int Count) : Frame
{
    public override Node Node => Owner;
}
