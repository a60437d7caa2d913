using Capa.Media.Audio;

namespace Capa.Media.Codecs;

/// <summary>
/// RIFF/WAVE 16-bit mono. The header carries the exact data size, which is known only at the end, so the file is
/// assembled in memory and written by <see cref="CompleteAsync"/>: players and parsers that trust the size (most do)
/// then read it whole.
/// </summary>
internal sealed class WavEncoder(int sampleRate, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output) : AudioEncoder
{
    private readonly MemoryStream data = new();

    public override AudioFormat Format => AudioFormat.Wav;

    public override int SampleRate { get; } = sampleRate;

    public override ValueTask WriteAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken)
    {
        data.Write(Pcm16.FromFloat(samples.Span));
        return ValueTask.CompletedTask;
    }

    public override async Task CompleteAsync(CancellationToken cancellationToken)
    {
        var header = new byte[WavFile.HeaderBytes];
        WavFile.WriteHeader(header, SampleRate, data.Length);
        await output(header, cancellationToken).ConfigureAwait(false);
        await output(data.GetBuffer().AsMemory(0, (int)data.Length), cancellationToken).ConfigureAwait(false);
    }

    protected override ValueTask DisposeAsyncCore()
    {
        data.Dispose();
        return ValueTask.CompletedTask;
    }
}
