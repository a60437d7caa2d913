namespace Capa.Engine.Generation;

/// <summary>A causal decoder that the generation loop drives one sequence at a time (batch 1, so arithmetic never depends on load).</summary>
public interface IDecoderModel
{
    /// <summary>Number of logits per position (the graph's output width; may exceed the tokenizer's vocabulary).</summary>
    int LogitsWidth { get; }

    /// <summary>The longest sequence, prompt plus completion, the model accepts.</summary>
    int MaxContextLength { get; }

    /// <summary>Starts an empty sequence that owns its key/value cache until disposed.</summary>
    IDecoderSequence CreateSequence();
}

/// <summary>One sequence's state (its key/value cache) inside a <see cref="IDecoderModel"/>.</summary>
public interface IDecoderSequence : IDisposable
{
    /// <summary>Tokens fed so far.</summary>
    int Length { get; }

    /// <summary>
    /// Feeds <paramref name="tokens"/> after those already fed and returns the logits of the last position.
    /// The span stays valid until the next call on this sequence.
    /// </summary>
    ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens);

    /// <summary>
    /// Feeds positions given as input embeddings (row-major [positions, hidden]; e.g. a prompt whose image positions
    /// hold vision features) after those already fed, and returns the logits of the last position. Only decoders whose
    /// graph takes <c>inputs_embeds</c> support it.
    /// </summary>
    /// <exception cref="NotSupportedException">The decoder takes token ids only.</exception>
    ReadOnlySpan<float> ForwardEmbeddings(ReadOnlySpan<float> embeddings) =>
        throw new NotSupportedException("This decoder takes token ids only.");

    /// <summary>A copy of this sequence (same cache, independent from now on), used to share a prompt's prefill between choices.</summary>
    IDecoderSequence Fork();
}
