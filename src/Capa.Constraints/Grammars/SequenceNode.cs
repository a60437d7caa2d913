namespace Capa.Constraints.Grammars;

/// <summary>Matches its children one after another.</summary>
internal sealed class SequenceNode : Node
{
    private readonly Node[] _children;
    private readonly bool[] _nullableFrom;

    public SequenceNode(Node[] children)
    {
        _children = children;
        _nullableFrom = new bool[children.Length + 1];
        _nullableFrom[children.Length] = true;
        for (int i = children.Length - 1; i >= 0; i--)
        {
            _nullableFrom[i] = _nullableFrom[i + 1] && children[i].Nullable;
        }
    }

    public IReadOnlyList<Node> Children => _children;

    public override bool Nullable => _nullableFrom[0];

    public override Frame Initial(Frame? parent) => new SequenceFrame(this, 0) { Parent = parent };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (SequenceFrame)frame;
        if (f.Index == _children.Length)
        {
            sink.Done(f, b, consumed: false);
        }
        else
        {
            sink.PushAndFeed(_children[f.Index], f, b);
        }
    }

    public override Frame ChildDone(Frame frame)
    {
        var f = (SequenceFrame)frame;
        return f with { Index = f.Index + 1 };
    }

    public override bool IsExhausted(Frame frame) => ((SequenceFrame)frame).Index == _children.Length;

    public override bool CanEndHere(Frame frame) => _nullableFrom[((SequenceFrame)frame).Index];
}

internal sealed record SequenceFrame(SequenceNode Owner, int Index) : Frame
{
    public override Node Node => Owner;
}
