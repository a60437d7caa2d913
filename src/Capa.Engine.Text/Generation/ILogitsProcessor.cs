namespace Capa.Engine.Text.Generation;

/// <summary>
/// Rewrites one choice's logits before sampling (for example a constrained-decoding token mask: set banned ids to
/// negative infinity), after <c>logit_bias</c> and the penalties are applied. Created per choice, so it may keep state.
/// </summary>
/// <remarks>
/// A processor that can judge a single token cheaply (<see cref="SupportsTokenCheck"/>) lets the sampler skip
/// <see cref="Process"/> when the token it would pick anyway is allowed. The sampler only does so where the result is
/// provably the token it would have picked from the processed logits, so output never depends on whether the check
/// was used.
/// </remarks>
public interface ILogitsProcessor
{
    /// <summary>Adjusts <paramref name="logits"/> in place given the tokens generated so far.</summary>
    void Process(Span<float> logits, IReadOnlyList<int> generated);

    /// <summary>Whether the processor's state accepts ending here (a constraint that is not complete returns false, and end ids are then banned).</summary>
    bool CanEnd => true;

    /// <summary>Whether <see cref="IsAllowed"/> answers without doing the work of <see cref="Process"/>.</summary>
    bool SupportsTokenCheck => false;

    /// <summary>
    /// Whether <paramref name="token"/> keeps a finite logit under <see cref="Process"/> given the tokens generated
    /// so far (the sampled-token fast path). Called only when <see cref="SupportsTokenCheck"/> is true.
    /// </summary>
    bool IsAllowed(int token, IReadOnlyList<int> generated) => throw new NotSupportedException("This processor cannot check single tokens.");
}
