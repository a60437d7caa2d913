namespace Capa.Engine.Generation;

/// <summary>How an <see cref="OnnxDecoderModel"/> runs its ONNX Runtime session.</summary>
public sealed record OnnxDecoderOptions
{
    /// <summary>Intra-op threads (default: the machine's cores). Part of the fingerprint: it can change reduction order.</summary>
    public int IntraOpThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Most prompt tokens fed per prefill step. Default 256.</summary>
    public int PrefillChunkTokens { get; init; } = 256;

    /// <summary>
    /// Upper bound on the logits one prefill step may produce (positions × vocabulary × 4 bytes), when the graph cannot
    /// be asked for the last position only; chunks shrink to respect it. Default 64 MiB.
    /// </summary>
    public long MaxPrefillLogitsBytes { get; init; } = 64L << 20;

    /// <summary>ONNX Runtime's memory pattern optimisation (pre-planned allocations per input shape). Default on.</summary>
    public bool EnableMemoryPattern { get; init; } = true;
}
