namespace Capa.Engine.Text.Generation;

/// <summary>How an <see cref="OnnxDecoderModel"/> runs its ONNX Runtime session.</summary>
public sealed record OnnxDecoderOptions
{
    /// <summary>Intra-op threads (default: the machine's cores). Part of the fingerprint: it can change reduction order.</summary>
    public int IntraOpThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Most prompt tokens fed per prefill step. Default 256. Part of the fingerprint: a chunk's rows are computed
    /// together, so the split can change the last bits of a prompt's cache.
    /// </summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// When the graph has no <c>num_logits_to_keep</c> input, rewrite it in memory so that the vocabulary projection runs
    /// for the last position of each step only (see the model's <see cref="OnnxDecoderModel.ComputesLastLogitsOnly"/>).
    /// The logits the engine reads are bitwise the same; prefill skips the projection of every other prompt position and
    /// its chunks are no longer bounded by <see cref="MaxPrefillLogitsBytes"/>. Default true.
    /// </summary>
    public bool ComputeLastLogitsOnly { get; init; } = true;

    /// <summary>
    /// Upper bound on the logits one prefill step may produce (positions × vocabulary × 4 bytes), when the graph cannot
    /// be asked for the last position only; chunks shrink to respect it. Default 64 MiB.
    /// </summary>
    public long MaxPrefillLogitsBytes { get; init; } = 64L << 20;

    /// <summary>
    /// When set, every <c>MatMulNBits</c> node (4-bit weights) runs with this <c>accuracy_level</c> instead of the file's:
    /// 4 computes with int8 activations, markedly faster on CPUs with VNNI; 0 is fp32 compute. The model file is not
    /// changed (the graph is rewritten in memory); the level in use is in <see cref="OnnxDecoderModel.MatMulNBitsAccuracyLevel"/>,
    /// the start-up log and the fingerprint. Default 4; null keeps the file's levels.
    /// </summary>
    public int? MatMulNBitsAccuracyLevel { get; init; } = 4;

    /// <summary>
    /// Rewrite each layer's attention, in memory, into one <c>com.microsoft.GroupQueryAttention</c> node that attends
    /// each batch row over its own positions (see <see cref="OnnxDecoderModel.AttentionRewritten"/>), so that sequences
    /// of different lengths can be decoded in one batch with each one's numbers independent of the others. It changes
    /// the last bits of the logits against the graph's own attention once, so it is a fingerprint input
    /// (<c>attention</c>). Graphs fed <c>inputs_embeds</c> (vision-language decoders, which decode one sequence per
    /// forward) are left as they are. Default true.
    /// </summary>
    public bool GroupQueryAttention { get; init; } = true;

    /// <summary>Set by the loader when the model's config rules the attention rewrite out (e.g. a sliding window): why.</summary>
    internal string? GroupQueryAttentionRuledOut { get; init; }

    /// <summary>
    /// Replaces the row-invariance self-check (<see cref="KernelRowInvariance"/>) that decides whether the vocabulary
    /// projection may be rewritten to the last position, and whether it projects that position once or twice; tests force
    /// either rewrite with it to show what the check guards.
    /// </summary>
    internal Func<LinearKernel, RowInvariance>? HeadRowInvariance { get; init; }

    /// <summary>ONNX Runtime's memory pattern optimisation (pre-planned allocations per input shape). Default on.</summary>
    public bool EnableMemoryPattern { get; init; } = true;
}
