namespace Capa.Engine.Generation;

/// <summary>
/// Rewrites one choice's logits before sampling (for example a constrained-decoding token mask: set banned ids to
/// negative infinity). Created per choice, so it may keep state.
/// </summary>
public interface ILogitsProcessor
{
    /// <summary>Adjusts <paramref name="logits"/> in place given the tokens generated so far.</summary>
    void Process(Span<float> logits, IReadOnlyList<int> generated);

    /// <summary>Whether the processor's state accepts ending here (a constraint that is not complete returns false, and end ids are then banned).</summary>
    bool CanEnd => true;
}
