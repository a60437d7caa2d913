namespace Capa.Engine.Text.Generation;

/// <summary>
/// A causal decoder. Prompts are fed one sequence at a time; decode steps of several sequences may run as one batch
/// (<see cref="DecodeBatch"/>), but only where each sequence's numbers are the same as alone, so arithmetic never
/// depends on load.
/// </summary>
public interface IDecoderModel
{
    /// <summary>Number of logits per position (the graph's output width; may exceed the tokenizer's vocabulary).</summary>
    int LogitsWidth { get; }

    /// <summary>The longest sequence, prompt plus completion, the model accepts.</summary>
    int MaxContextLength { get; }

    /// <summary>
    /// Most prompt positions the engine feeds in one forward: it prefills a long prompt chunk by chunk, taking turns with
    /// the decode steps of running streams, and the split is part of the numbers (so it must be what the model's own
    /// chunking would be). Default: no limit.
    /// </summary>
    int PrefillChunkTokens => int.MaxValue;

    /// <summary>Bytes of key/value cache per token of a sequence, for admission by memory. Default 0 (unknown: memory does not limit admission).</summary>
    long KvBytesPerToken => 0;

    /// <summary>Starts an empty sequence that owns its key/value cache until disposed.</summary>
    IDecoderSequence CreateSequence();

    /// <summary>
    /// Whether sequences can copy positions of their cache out (<see cref="IDecoderSequence.CopyKv"/>) and a sequence can
    /// start from such copies (<see cref="CreateSequence(IReadOnlyList{KvBlock})"/>), which a <see cref="PrefixCache"/> needs.
    /// </summary>
    bool SupportsKvBlocks => false;

    /// <summary>
    /// Starts a sequence whose first positions hold copies of <paramref name="prefix"/>'s blocks, in order, as if it had
    /// been fed the tokens they were computed from; it owns its cache (the blocks stay the caller's, unchanged).
    /// </summary>
    /// <exception cref="NotSupportedException">The decoder does not support <see cref="SupportsKvBlocks"/>.</exception>
    IDecoderSequence CreateSequence(IReadOnlyList<KvBlock> prefix) =>
        throw new NotSupportedException("This decoder cannot start a sequence from key/value blocks.");

    /// <summary>
    /// Whether <see cref="DecodeBatch"/> runs its sequences in one forward. When true, every sequence's logits are
    /// bitwise those it would get decoded alone, whatever the other sequences and their lengths. Default false.
    /// </summary>
    bool BatchesDecode => false;

    /// <summary>
    /// Decode step of several sequences: feeds <see cref="DecodeSlot.Token"/> to each slot's sequence (all created by this
    /// model, distinct, none disposed, each with room for one more position) and writes the logits of that position
    /// into <see cref="DecodeSlot.Logits"/> (<see cref="LogitsWidth"/> values). The default feeds them one at a time,
    /// in order.
    /// </summary>
    void DecodeBatch(ReadOnlySpan<DecodeSlot> slots)
    {
        foreach (var slot in slots)
        {
            slot.Sequence.Forward([slot.Token]).CopyTo(slot.Logits);
        }
    }
}

/// <summary>One sequence's part of a <see cref="IDecoderModel.DecodeBatch"/> step: the token it is fed and where its next logits go.</summary>
/// <param name="Sequence">The sequence fed.</param>
/// <param name="Token">The token fed.</param>
/// <param name="Logits">Receives the logits of the new position.</param>
public readonly record struct DecodeSlot(IDecoderSequence Sequence, int Token, float[] Logits);

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

    /// <summary>
    /// Gives a sequence of a multimodal-RoPE decoder its prompt's three-row positions, before the prompt is fed; later
    /// tokens (and forks) go on from its delta. Without it such a decoder counts positions as text, the same in all rows.
    /// </summary>
    void UseMultimodalPositions(MultimodalPositions positions) =>
        throw new NotSupportedException("This decoder has one row of positions.");

    /// <summary>A copy of this sequence (same cache, independent from now on), used to share a prompt's prefill between choices.</summary>
    IDecoderSequence Fork();

    /// <summary>A copy of positions [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of the cache.</summary>
    /// <exception cref="NotSupportedException">The decoder does not support <see cref="IDecoderModel.SupportsKvBlocks"/>.</exception>
    KvBlock CopyKv(int start, int count) =>
        throw new NotSupportedException("This decoder cannot copy its key/value cache out.");
}
