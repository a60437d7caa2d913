namespace Capa.Engine.Text.Generation;

/// <summary>One completion request to the engine: prompt tokens in, <see cref="N"/> independent choices out.</summary>
public sealed record GenerationRequest
{
    /// <summary>The prompt, already rendered and tokenized.</summary>
    public required IReadOnlyList<int> PromptTokens { get; init; }

    /// <summary>Most tokens per choice (OpenAI's max_completion_tokens / max_tokens); null = up to the context length.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Stop sequences (up to 4 in OpenAI's API); matched in text across token boundaries and never emitted.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Number of choices, each sampled from its own random stream.</summary>
    public int N { get; init; } = 1;

    /// <summary>Sampling parameters shared by all choices.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>The seed; null draws a fresh one, reported in <see cref="GenerationStream.Seed"/>.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// The prompt as input embeddings, row-major [<see cref="PromptTokens"/>.Count, hidden], for a decoder that takes
    /// <c>inputs_embeds</c> (e.g. with image features in the image token positions); null feeds <see cref="PromptTokens"/>.
    /// The ids still count the prompt's tokens and constrain nothing else.
    /// </summary>
    public float[]? PromptEmbeddings { get; init; }

    /// <summary>
    /// The prompt's positions for a decoder with multimodal RoPE (position_ids [3, batch, seq]), covering every prompt
    /// token; null counts positions as text.
    /// </summary>
    public MultimodalPositions? PromptPositions { get; init; }

    /// <summary>Creates a per-choice logits processor (e.g. a JSON grammar mask), given the choice index; null for none.</summary>
    public Func<int, ILogitsProcessor>? LogitsProcessorFactory { get; init; }
}

/// <summary>Why a choice ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop sequence.</summary>
    Stop,

    /// <summary>max_tokens, or the context length, was reached.</summary>
    Length,
}

/// <summary>A piece of one choice's output: new text (possibly empty), the logprobs of tokens sampled since the last update, and the finish reason on its last update.</summary>
/// <param name="ChoiceIndex">Which choice.</param>
/// <param name="Text">Text that became final.</param>
/// <param name="Logprobs">Logprobs of the tokens sampled since the previous update (null unless asked for).</param>
/// <param name="FinishReason">Set on the choice's last update only.</param>
/// <param name="CompletionTokens">Tokens sampled by this choice so far (including an end-of-sequence token).</param>
public sealed record GenerationUpdate(int ChoiceIndex, string Text, IReadOnlyList<TokenLogprob>? Logprobs, FinishReason? FinishReason, int CompletionTokens);
