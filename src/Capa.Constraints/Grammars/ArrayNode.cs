namespace Capa.Constraints.Grammars;

/// <summary>
/// A JSON array: positional item nodes (<c>prefixItems</c>) then <see cref="Items"/> for the rest (null: no
/// further items), between <c>minItems</c> and <c>maxItems</c> items, whitespace runs bounded.
/// </summary>
internal sealed class ArrayNode : Node
{
    private const int ExpectOpen = 0;
    private const int AfterOpen = 1;
    private const int InItem = 2;
    private const int AfterItem = 3;
    private const int AfterComma = 4;

    private readonly int _maxWhitespace;

    public ArrayNode(Node[] prefix, Node? items, int minItems, int maxItems, int maxWhitespace)
    {
        Prefix = prefix;
        Items = items;
        MinItems = minItems;
        MaxItems = items is null ? Math.Min(maxItems, prefix.Length) : maxItems;
        _maxWhitespace = maxWhitespace;
    }

    public Node[] Prefix { get; set; }

    public Node? Items { get; set; }

    public int MinItems { get; }

    public int MaxItems { get; set; }

    private Node? ItemAt(int index) => index >= MaxItems ? null : index < Prefix.Length ? Prefix[index] : Items;

    public override Frame Initial(Frame? parent) => new ArrayFrame(this, ExpectOpen, 0, 0) { Parent = parent };

    public override bool CanEndHere(Frame frame) => false;

    public override Frame ChildDone(Frame frame)
    {
        var f = (ArrayFrame)frame;
        return f with { Phase = AfterItem, Count = f.Count + 1, Whitespace = 0 };
    }

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (ArrayFrame)frame;
        if (f.Phase == ExpectOpen)
        {
            if (b == '[')
            {
                sink.Emit(f with { Phase = AfterOpen });
            }

            return;
        }

        if (IsWhitespace(b))
        {
            if (f.Whitespace < _maxWhitespace)
            {
                sink.Emit(f with { Whitespace = f.Whitespace + 1 });
            }

            return;
        }

        switch (f.Phase)
        {
            case AfterOpen:
                if (b == ']' && MinItems == 0)
                {
                    sink.Done(f, b, consumed: true);
                }
                else if (ItemAt(0) is { } first)
                {
                    sink.PushAndFeed(first, f with { Phase = InItem, Whitespace = 0 }, b);
                }

                break;
            case AfterItem:
                if (b == ']' && f.Count >= MinItems)
                {
                    sink.Done(f, b, consumed: true);
                }
                else if (b == ',' && ItemAt(f.Count) is not null)
                {
                    sink.Emit(f with { Phase = AfterComma, Whitespace = 0 });
                }

                break;
            case AfterComma:
                sink.PushAndFeed(ItemAt(f.Count)!, f with { Phase = InItem, Whitespace = 0 }, b);
                break;
        }
    }
}

internal sealed record ArrayFrame(ArrayNode Owner, int Phase, int Count, int Whitespace) : Frame
{
    public override Node Node => Owner;
}
