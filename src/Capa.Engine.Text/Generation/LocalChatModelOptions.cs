using Capa.Models;

namespace Capa.Engine.Text.Generation;

/// <summary>How a <see cref="LocalChatModel"/> is loaded and run.</summary>
public sealed record LocalChatModelOptions
{
    /// <summary>The ONNX file to run; null picks q4, then int8, fp32, fp16.</summary>
    public ModelVariant? Variant { get; init; }

    /// <summary>ONNX Runtime session settings.</summary>
    public OnnxDecoderOptions Decoder { get; init; } = new();

    /// <summary>Admission limits.</summary>
    public GenerationSchedulerOptions Scheduler { get; init; } = new();

    /// <summary>
    /// Bytes of prompt key/value cache kept for reuse by later prompts that share a prefix (<see cref="PrefixCache"/>);
    /// 0 turns reuse off. Reuse never changes output, so it is not a fingerprint input. Default 1 GiB.
    /// </summary>
    public long PrefixCacheBytes { get; init; } = PrefixCache.DefaultCapacityBytes;

    /// <summary>Where model file digests are cached; null: <c>.capa-digests.json</c> in the model's folder.</summary>
    public string? DigestCachePath { get; init; }

    /// <summary>
    /// More inputs to the <c>system_fingerprint</c> from other layers that change outputs (e.g. the constrained-decoding
    /// version, server options); merged over the engine's own.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ExtraFingerprintInputs { get; init; }

    /// <summary>The name the model is served under (model cards, logs); null: the folder's name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The clock a chat template's <c>strftime_now</c> reads (Llama 3.2's template dates its system prompt); null: the
    /// system clock. A server passes its own, so that tests can fix the date.
    /// </summary>
    public TimeProvider? TemplateClock { get; init; }
}
