using Capa.Media.Audio;

namespace Capa.Media.Codecs;

/// <summary>Raw 16-bit little-endian mono PCM, streamed chunk by chunk.</summary>
internal sealed class PcmEncoder(int sampleRate, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output) : AudioEncoder
{
    public override AudioFormat Format => AudioFormat.Pcm;

    public override int SampleRate { get; } = sampleRate;

    public override ValueTask WriteAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken) =>
        samples.IsEmpty ? ValueTask.CompletedTask : output(Pcm16.FromFloat(samples.Span), cancellationToken);

    public override Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
