namespace Capa.Constraints.Grammars;

/// <summary>
/// A compiled grammar element. A node owns the meaning of its frames: <see cref="Step"/> consumes one byte
/// and reports every outcome to the <see cref="StepSink"/> (none means the byte is rejected). A node that
/// can match nothing (<see cref="Nullable"/>) completes by handing the byte on to its parent.
/// </summary>
internal abstract class Node
{
    /// <summary>Steps <paramref name="frame"/> (whose node is this) with byte <paramref name="b"/>.</summary>
    public abstract void Step(Frame frame, byte b, StepSink sink);

    /// <summary>The frame of this node before any byte, under <paramref name="parent"/>.</summary>
    public abstract Frame Initial(Frame? parent);

    /// <summary>Enters this node under <paramref name="parent"/> and feeds it its first byte.</summary>
    public virtual void EnterAndFeed(Frame? parent, byte b, StepSink sink)
    {
        Frame f = Initial(parent);
        f.Node.Step(f, b, sink);
    }

    /// <summary>Adds the frames this node starts in (several for a choice).</summary>
    public virtual void EnterInitial(Frame? parent, List<Frame> output) => output.Add(Initial(parent));

    /// <summary>The frame a container moves to once the child it pushed has completed.</summary>
    public virtual Frame ChildDone(Frame frame) =>
        throw new InvalidOperationException($"{GetType().Name} has no children.");

    /// <summary>Whether the value is complete at this point if the input ends (or the parent takes over).</summary>
    public abstract bool CanEndHere(Frame frame);

    /// <summary>
    /// Whether masks computed from this frame are worth caching: false for frames that carry an unbounded
    /// value (the digits of a bounded number), which would fill the cache with single-use entries.
    /// </summary>
    public virtual bool IsCacheable(Frame frame) => true;

    /// <summary>A lower bound of the bytes this frame still needs (diagnostics: lets tests steer towards completion).</summary>
    public virtual int RemainingHint(Frame frame) => 0;

    /// <summary>Whether the frame is complete and can take no further byte itself.</summary>
    public virtual bool IsExhausted(Frame frame) => false;

    /// <summary>Whether the node matches the empty input.</summary>
    public virtual bool Nullable => false;

    internal static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t';
}
