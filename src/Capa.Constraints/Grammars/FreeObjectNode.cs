namespace Capa.Constraints.Grammars;

/// <summary>A JSON object with any keys and values of <see cref="Value"/> (json_object mode).</summary>
internal sealed class FreeObjectNode(Node key, int maxWhitespace) : Node
{
    private const int ExpectOpen = 0;
    private const int AfterOpen = 1;
    private const int InKey = 2;
    private const int AfterKey = 3;
    private const int AfterColon = 4;
    private const int InValue = 5;
    private const int AfterValue = 6;
    private const int AfterComma = 7;

    public Node Value { get; set; } = null!;

    public override Frame Initial(Frame? parent) => new FreeObjectFrame(this, ExpectOpen, 0) { Parent = parent };

    public override bool CanEndHere(Frame frame) => false;

    public override Frame ChildDone(Frame frame)
    {
        var f = (FreeObjectFrame)frame;
        return f with { Phase = f.Phase == InKey ? AfterKey : AfterValue, Whitespace = 0 };
    }

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (FreeObjectFrame)frame;
        if (f.Phase == ExpectOpen)
        {
            if (b == '{')
            {
                sink.Emit(f with { Phase = AfterOpen });
            }

            return;
        }

        if (IsWhitespace(b))
        {
            if (f.Whitespace < maxWhitespace)
            {
                sink.Emit(f with { Whitespace = f.Whitespace + 1 });
            }

            return;
        }

        switch (f.Phase)
        {
            case AfterOpen:
                if (b == '}')
                {
                    sink.Done(f, b, consumed: true);
                }
                else
                {
                    sink.PushAndFeed(key, f with { Phase = InKey, Whitespace = 0 }, b);
                }

                break;
            case AfterKey:
                if (b == ':')
                {
                    sink.Emit(f with { Phase = AfterColon, Whitespace = 0 });
                }

                break;
            case AfterColon:
                sink.PushAndFeed(Value, f with { Phase = InValue, Whitespace = 0 }, b);
                break;
            case AfterValue:
                if (b == '}')
                {
                    sink.Done(f, b, consumed: true);
                }
                else if (b == ',')
                {
                    sink.Emit(f with { Phase = AfterComma, Whitespace = 0 });
                }

                break;
            case AfterComma:
                sink.PushAndFeed(key, f with { Phase = InKey, Whitespace = 0 }, b);
                break;
        }
    }
}

internal sealed record FreeObjectFrame(FreeObjectNode Owner, int Phase, int Whitespace) : Frame
{
    public override Node Node => Owner;
}
