namespace Capa.Engine.Text.Generation;

/// <summary>
/// What the sampler sees of a choice's logits processor: a mask it can apply, and, when supported, a check of a single
/// token, so the mask is built only when the token the sampler would pick is not allowed.
/// </summary>
internal interface ITokenFilter
{
    /// <summary>Whether <see cref="IsAllowed"/> may be called.</summary>
    bool CanCheck { get; }

    /// <summary>Whether <paramref name="token"/> keeps a finite logit under <see cref="Apply"/>.</summary>
    bool IsAllowed(int token);

    /// <summary>Sets the logits of every token not allowed to negative infinity.</summary>
    void Apply(Span<float> logits);
}
