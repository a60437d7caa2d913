using Capa.Constraints.Runtime;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Constraints;

/// <summary>
/// Applies a <see cref="ConstraintState"/> to one choice: before each step it advances the state by the tokens
/// sampled since the previous step, then sets every token the grammar does not allow next (and every id beyond the
/// tokenizer's vocabulary) to negative infinity. The mask depends only on the tokens, so seeded sampling stays
/// reproducible; probabilities the sampler reports (logprobs) are the post-mask ones. Single tokens can be checked
/// without building the mask (<see cref="IsAllowed"/>), which the sampler uses when the token it would pick from the
/// masked logits is known to be the one it picks from the raw logits.
/// </summary>
public sealed class ConstraintLogitsProcessor : ILogitsProcessor
{
    private readonly ConstraintState _state;
    private float[]? _wide;
    private int _consumed;

    /// <summary>Creates the processor for one sequence.</summary>
    public ConstraintLogitsProcessor(ConstraintState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _state = state;
    }

    /// <summary>The state, advanced to the last token processed.</summary>
    public ConstraintState State => _state;

    /// <inheritdoc/>
    public bool CanEnd => _state.CanEnd;

    /// <inheritdoc/>
    public bool SupportsTokenCheck => true;

    /// <summary>Masks built so far (steps the sampled-token check could not settle).</summary>
    public int MasksApplied { get; private set; }

    /// <summary>Single tokens checked so far.</summary>
    public int TokensChecked { get; private set; }

    /// <inheritdoc/>
    public bool IsAllowed(int token, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        TokensChecked++;
        return _state.IsAllowed(token);
    }

    /// <inheritdoc/>
    public void Process(Span<float> logits, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        MasksApplied++;
        Mask(_state, logits, ref _wide);
    }

    /// <summary>
    /// Sets every logit <paramref name="state"/> does not allow next to negative infinity, ids past the tokenizer
    /// included; <paramref name="wide"/> is scratch for logits narrower than the tokenizer.
    /// </summary>
    internal static void Mask(ConstraintState state, Span<float> logits, ref float[]? wide)
    {
        var count = state.Constraint.Vocabulary.Count;
        if (logits.Length == count)
        {
            state.ApplyMask(logits);
            return;
        }

        if (logits.Length < count)
        {
            // Logits narrower than the tokenizer: the ids past them cannot be sampled anyway.
            wide ??= new float[count];
            logits.CopyTo(wide);
            state.ApplyMask(wide);
            wide.AsSpan(0, logits.Length).CopyTo(logits);
            return;
        }

        state.ApplyMask(logits[..count]);
        logits[count..].Fill(float.NegativeInfinity);
    }

    private void CatchUp(IReadOnlyList<int> generated)
    {
        CheckSequence(generated, _consumed);
        for (; _consumed < generated.Count; _consumed++)
        {
            Advance(_state, generated[_consumed]);
        }
    }

    /// <summary>Refuses a token list that is null or shorter than what a processor already consumed.</summary>
    internal static void CheckSequence(IReadOnlyList<int> generated, int consumed)
    {
        ArgumentNullException.ThrowIfNull(generated);
        if (generated.Count < consumed)
        {
            throw new InvalidOperationException("The generated tokens went backwards; a processor serves one sequence.");
        }
    }

    /// <summary>Advances <paramref name="state"/> by a sampled token, which its mask allowed.</summary>
    internal static void Advance(ConstraintState state, int token)
    {
        if (!state.TryAdvance(token))
        {
            throw new InvalidOperationException($"Token {token} was generated although the constraint ({state.Constraint.Grammar.Description}) did not allow it.");
        }
    }
}
