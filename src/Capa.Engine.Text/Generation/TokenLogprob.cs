namespace Capa.Engine.Text.Generation;

/// <summary>One token and its log-probability under the distribution it was sampled from.</summary>
/// <param name="TokenId">The token id.</param>
/// <param name="Logprob">Natural log of its probability.</param>
public readonly record struct TokenAlternative(int TokenId, float Logprob);

/// <summary>The log-probability of a sampled token and, when asked, the most likely alternatives (most likely first).</summary>
/// <param name="TokenId">The sampled token.</param>
/// <param name="Logprob">Its log-probability.</param>
/// <param name="TopAlternatives">The <c>top_logprobs</c> most likely tokens, ordered by descending log-probability then id.</param>
public sealed record TokenLogprob(int TokenId, float Logprob, IReadOnlyList<TokenAlternative> TopAlternatives);
