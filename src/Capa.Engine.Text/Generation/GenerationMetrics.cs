using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// The text engine's instruments, on the <see cref="MeterName"/> meter (<see cref="System.Diagnostics.Metrics"/>, so any
/// exporter can read them; the server publishes them as Prometheus text at <c>/metrics</c>). Totals over every model of the
/// process. Instrument names are short because exporters prefix them with the meter's (prometheus-net writes
/// <c>capa_generation_prefill_tokens</c>). Clocks are read for these figures only: nothing here reaches a request's output.
/// </summary>
public static class GenerationMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Capa.Generation";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Prompt positions fed to decoders (prefill); its rate is prefill tokens per second.</summary>
    internal static readonly Counter<long> PrefillTokens = Meter.CreateCounter<long>("prefill_tokens", "{token}", "Prompt positions fed to decoders (prefill).");

    /// <summary>Tokens sampled (decode); its rate is decode tokens per second.</summary>
    internal static readonly Counter<long> DecodeTokens = Meter.CreateCounter<long>("decode_tokens", "{token}", "Tokens sampled by decoders.");

    /// <summary>From admission to a request's first token.</summary>
    internal static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>("time_to_first_token", "s", "Seconds from a request's admission to its first token.");

    /// <summary>Between two tokens of a choice.</summary>
    internal static readonly Histogram<double> InterTokenLatency = Meter.CreateHistogram<double>("inter_token_latency", "s", "Seconds between two tokens of a stream.");

    /// <summary>
    /// Sequences per decode step: the batch size a model that batches decode runs in one forward (1 for a model that
    /// feeds one sequence at a time).
    /// </summary>
    internal static readonly Histogram<int> DecodeBatchSequences = Meter.CreateHistogram<int>("decode_batch_sequences", "{sequence}", "Sequences per decode step (the batch size of one forward).");

    /// <summary>Requests waiting for admission.</summary>
    internal static readonly LiveValue QueuedRequests = new(Meter, "queued_requests", "{request}", "Requests waiting for admission.");

    /// <summary>Requests admitted and not finished.</summary>
    internal static readonly LiveValue RunningRequests = new(Meter, "running_requests", "{request}", "Requests admitted and not finished.");

    /// <summary>Sequences (choices) of the running requests.</summary>
    internal static readonly LiveValue RunningSequences = new(Meter, "running_sequences", "{sequence}", "Sequences of the running requests.");

    /// <summary>Key/value cache bytes reserved by running requests.</summary>
    internal static readonly LiveValue ReservedKvBytes = new(Meter, "kv_cache_reserved_bytes", "By", "Key/value cache bytes reserved by running requests.");

    /// <summary>Eligible prompts that found a prefix of theirs in the prefix cache.</summary>
    internal static readonly Counter<long> PrefixCacheHits = Meter.CreateCounter<long>("prefix_cache_hits", "{request}", "Prompts that reused a cached prefix.");

    /// <summary>Eligible prompts that found none (prompts shorter than a chunk included).</summary>
    internal static readonly Counter<long> PrefixCacheMisses = Meter.CreateCounter<long>("prefix_cache_misses", "{request}", "Prompts that found no cached prefix.");

    /// <summary>Prompt positions taken from the prefix cache instead of being prefilled.</summary>
    internal static readonly Counter<long> PrefixCacheReusedTokens = Meter.CreateCounter<long>("prefix_cache_reused_tokens", "{token}", "Prompt positions reused from the prefix cache.");

    /// <summary>Chunks dropped from prefix caches to make room.</summary>
    internal static readonly Counter<long> PrefixCacheEvictions = Meter.CreateCounter<long>("prefix_cache_evictions", "{chunk}", "Chunks evicted from the prefix cache.");

    /// <summary>Bytes of key/value blocks held by the prefix caches.</summary>
    internal static readonly LiveValue PrefixCacheBytes = new(Meter, "prefix_cache_bytes", "By", "Key/value bytes held by the prefix cache.");

    /// <summary>Seconds since <paramref name="start"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal static double SecondsSince(long start) => Stopwatch.GetElapsedTime(start).TotalSeconds;

    /// <summary>
    /// A process-wide level (queue length, running sequences, reserved bytes) published as an observable gauge: it is
    /// read at each collection, so exporters that start listening late still see it.
    /// </summary>
    internal sealed class LiveValue
    {
        private long _value;

        public LiveValue(Meter meter, string name, string unit, string description) =>
            meter.CreateObservableGauge(name, () => Interlocked.Read(ref _value), unit, description);

        public void Add(long delta) => Interlocked.Add(ref _value, delta);
    }
}
