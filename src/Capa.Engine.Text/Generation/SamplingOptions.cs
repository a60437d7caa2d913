namespace Capa.Engine.Text.Generation;

/// <summary>How one choice picks each token. Defaults are OpenAI's (temperature 1, top_p 1, no penalties).</summary>
public sealed record SamplingOptions
{
    /// <summary>0 means greedy (argmax); otherwise logits are divided by it. OpenAI allows 0..2.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>
    /// Nucleus mass kept, 0 to 1 as OpenAI's <c>top_p</c> (the wire's <c>SamplingRanges.TopP</c>). 0 keeps the smallest
    /// prefix holding no mass at all, i.e. the most likely token alone (lowest id on ties): the token temperature 0 picks.
    /// </summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens (0 = off). Comes from generation_config.json.</summary>
    public int TopK { get; init; }

    /// <summary>OpenAI's presence penalty (-2..2): subtracted once from every token already generated.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI's frequency penalty (-2..2): subtracted once per earlier occurrence of a generated token.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Added to a token's logit before sampling (-100..100; ±100 effectively forces or bans it).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Return the sampled token's log-probability.</summary>
    public bool Logprobs { get; init; }

    /// <summary>How many most likely alternatives to return per token (0..20); needs <see cref="Logprobs"/>.</summary>
    public int TopLogprobs { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first field out of range.</summary>
    public void Validate()
    {
        if (!float.IsFinite(Temperature) || Temperature < 0 || Temperature > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be between 0 and 2.");
        }

        if (!float.IsFinite(TopP) || TopP < 0 || TopP > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top_p must be between 0 and 1.");
        }

        if (TopK < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top_k must not be negative.");
        }

        if (!float.IsFinite(PresencePenalty) || PresencePenalty is < -2 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(PresencePenalty), PresencePenalty, "presence_penalty must be between -2 and 2.");
        }

        if (!float.IsFinite(FrequencyPenalty) || FrequencyPenalty is < -2 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(FrequencyPenalty), FrequencyPenalty, "frequency_penalty must be between -2 and 2.");
        }

        if (TopLogprobs is < 0 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(TopLogprobs), TopLogprobs, "top_logprobs must be between 0 and 20.");
        }

        if (LogitBias is not null)
        {
            foreach (var (id, bias) in LogitBias)
            {
                if (!float.IsFinite(bias) || bias is < -100 or > 100)
                {
                    throw new ArgumentOutOfRangeException(nameof(LogitBias), bias, $"logit_bias for token {id} must be between -100 and 100.");
                }
            }
        }
    }
}
