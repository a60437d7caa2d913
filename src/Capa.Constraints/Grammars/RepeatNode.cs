namespace Capa.Constraints.Grammars;

/// <summary>Matches <c>item (separator item)*</c> between <c>min</c> and <c>max</c> times.</summary>
internal sealed class RepeatNode(Node item, Node? separator, int min, int max) : Node
{
    private const int Start = 0;
    private const int InItem = 1;
    private const int AfterItem = 2;
    private const int InSeparator = 3;
    private const int NeedItem = 4;

    public Node Item => item;

    public override bool Nullable => min == 0;

    public override Frame Initial(Frame? parent) => new RepeatFrame(this, Start, 0) { Parent = parent };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (RepeatFrame)frame;
        switch (f.Phase)
        {
            case Start:
                if (max > 0)
                {
                    sink.PushAndFeed(item, f with { Phase = InItem }, b);
                }

                if (min == 0)
                {
                    sink.Done(f, b, consumed: false);
                }

                break;
            case AfterItem:
                if (f.Count < max)
                {
                    sink.PushAndFeed(separator ?? item, f with { Phase = separator is null ? InItem : InSeparator }, b);
                }

                if (f.Count >= min)
                {
                    sink.Done(f, b, consumed: false);
                }

                break;
            case NeedItem:
                sink.PushAndFeed(item, f with { Phase = InItem }, b);
                break;
            default:
                throw new InvalidOperationException("A repeat frame with a pushed child is never stepped.");
        }
    }

    public override Frame ChildDone(Frame frame)
    {
        var f = (RepeatFrame)frame;
        return f.Phase == InItem
            ? f with { Phase = AfterItem, Count = f.Count + 1 }
            : f with { Phase = NeedItem };
    }

    public override bool IsExhausted(Frame frame) => frame is RepeatFrame { Phase: AfterItem } f && f.Count >= max;

    public override bool CanEndHere(Frame frame)
    {
        var f = (RepeatFrame)frame;
        return (f.Phase == Start && min == 0) || (f.Phase == AfterItem && f.Count >= min);
    }
}

internal sealed record RepeatFrame(RepeatNode Owner, int Phase, int Count) : Frame
{
    public override Node Node => Owner;
}
