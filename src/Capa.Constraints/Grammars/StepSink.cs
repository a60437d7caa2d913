namespace Capa.Constraints.Grammars;

/// <summary>
/// Collects the outcomes of stepping frames by one byte. Completion bubbles up the parent chain here, so
/// nodes never look at their parents; a completion that reaches <see cref="SentinelFrame"/> is recorded as
/// a deferral for the mask cache instead.
/// </summary>
internal sealed class StepSink
{
    public List<Frame> Output { get; set; } = [];

    /// <summary>Completions that reached the sentinel: (byte, whether the byte was consumed).</summary>
    public List<(byte Byte, bool Consumed)> Deferrals { get; } = [];

    public void Emit(Frame frame) => Output.Add(frame);

    /// <summary><paramref name="frame"/>'s value is complete; <paramref name="consumed"/> says whether <paramref name="b"/> was its last byte.</summary>
    public void Done(Frame frame, byte b, bool consumed)
    {
        Frame? parent = frame.Parent;
        if (parent is null)
        {
            if (consumed)
            {
                Output.Add(EndFrame.Instance);
            }

            return;
        }

        if (parent is SentinelFrame)
        {
            Deferrals.Add((b, consumed));
            return;
        }

        Frame resumed = parent.Node.ChildDone(parent);
        if (consumed)
        {
            Output.Add(resumed);
        }
        else
        {
            resumed.Node.Step(resumed, b, this);
        }
    }

    /// <summary>Pushes <paramref name="child"/> above <paramref name="parent"/> and feeds it <paramref name="b"/>.</summary>
    public void PushAndFeed(Node child, Frame parent, byte b) => child.EnterAndFeed(parent, b, this);
}
