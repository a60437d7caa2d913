namespace Capa.Constraints.Grammars;

/// <summary>Matches one fixed, non-empty byte string.</summary>
internal sealed class LiteralNode : Node
{
    private readonly byte[] _bytes;

    public LiteralNode(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            throw new ArgumentException("A literal must not be empty.", nameof(bytes));
        }

        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Bytes => _bytes;

    public override Frame Initial(Frame? parent) => new LiteralFrame(this, 0) { Parent = parent };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (LiteralFrame)frame;
        if (_bytes[f.Position] != b)
        {
            return;
        }

        if (f.Position + 1 == _bytes.Length)
        {
            sink.Done(f, b, consumed: true);
        }
        else
        {
            sink.Emit(f with { Position = f.Position + 1 });
        }
    }

    public override bool CanEndHere(Frame frame) => false;
}

internal sealed record LiteralFrame(LiteralNode Owner, int Position) : Frame
{
    public override Node Node => Owner;
}
