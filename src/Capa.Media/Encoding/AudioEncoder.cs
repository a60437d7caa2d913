namespace Capa.Media.Codecs;

/// <summary>
/// Turns a stream of mono float samples into encoded bytes, handed to an output callback as soon as the format
/// allows: <see cref="WriteAsync"/> any number of chunks, then <see cref="CompleteAsync"/>. Disposing an encoder that
/// was not completed abandons it (a running ffmpeg is killed).
/// </summary>
public abstract class AudioEncoder : IAsyncDisposable
{
    /// <summary>The output format.</summary>
    public abstract AudioFormat Format { get; }

    /// <summary>Samples per second of the input and of the output.</summary>
    public abstract int SampleRate { get; }

    /// <summary>
    /// An encoder for <paramref name="format"/> at <paramref name="sampleRate"/>: wav and pcm in managed code, the rest
    /// through ffmpeg (<paramref name="ffmpeg"/>, defaults when null).
    /// </summary>
    /// <param name="format">The output format.</param>
    /// <param name="sampleRate">Samples per second.</param>
    /// <param name="output">Receives the encoded bytes in order; the memory is valid only until it returns.</param>
    /// <param name="ffmpeg">How to run ffmpeg.</param>
    public static AudioEncoder Create(AudioFormat format, int sampleRate, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output, FfmpegOptions? ffmpeg = null) => format switch
    {
        AudioFormat.Pcm => new PcmEncoder(sampleRate, output),
        AudioFormat.Wav => new WavEncoder(sampleRate, output),
        _ => new FfmpegEncoder(format, sampleRate, output, ffmpeg ?? FfmpegOptions.Default),
    };

    /// <summary>Encodes a chunk of samples.</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken);

    /// <summary>Ends the stream and writes what remains.</summary>
    /// <exception cref="Processes.MediaProcessException">ffmpeg failed.</exception>
    public abstract Task CompleteAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the encoder holds.</summary>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;
}
