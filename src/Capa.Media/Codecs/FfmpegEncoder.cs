using System.Globalization;
using System.Threading.Channels;
using Capa.Media.Audio;
using Capa.Media.Processes;

namespace Capa.Media.Codecs;

/// <summary>
/// Encodes to mp3 (LAME), opus (libopus in Ogg), aac (ffmpeg's AAC-LC in ADTS) or flac through one ffmpeg process per
/// stream: 16-bit PCM goes in on standard input as it is written, encoded packets come out on standard output and
/// are flushed one by one, so a listener gets the first frames while later audio is still being made. The output is
/// bit-exact (no encoder version tags, fixed Ogg serial numbers): the same samples always give the same bytes.
/// </summary>
public sealed class FfmpegEncoder : AudioEncoder
{
    private readonly FfmpegRun run;

    /// <summary>
    /// Starts ffmpeg for <paramref name="format"/> (mp3, opus, aac or flac), or takes the spare one started earlier
    /// when <see cref="FfmpegOptions.KeepSpare"/> is set.
    /// </summary>
    public FfmpegEncoder(AudioFormat format, int sampleRate, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output, FfmpegOptions options)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        if (!format.NeedsFfmpeg())
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "wav and pcm are written without ffmpeg.");
        }

        Format = format;
        SampleRate = sampleRate;
        run = options.KeepSpare ? FfmpegSpares.Take(format, sampleRate, options) : new FfmpegRun(format, sampleRate, options);
        run.Attach(output);
    }

    /// <inheritdoc />
    public override AudioFormat Format { get; }

    /// <inheritdoc />
    public override int SampleRate { get; }

    /// <summary>The ffmpeg arguments for a format: raw PCM in through the pipe protocol only, one audio stream out.</summary>
    public static IReadOnlyList<string> Arguments(AudioFormat format, int sampleRate)
    {
        var rate = sampleRate.ToString(CultureInfo.InvariantCulture);
        List<string> args =
        [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1",
            "-protocol_whitelist", "pipe",

            // The input format is given, so nothing needs probing: without these ffmpeg reads seconds of input
            // before it encodes the first frame, which would hold back the start of every stream.
            "-probesize", "32", "-analyzeduration", "0",
            "-f", "s16le", "-ar", rate, "-ac", "1", "-i", "pipe:0",
            "-map", "0:a:0", "-map_metadata", "-1", "-vn", "-sn", "-dn",
            "-fflags", "+bitexact", "-flags:a", "+bitexact",
        ];
        args.AddRange(format switch
        {
            // No Xing/LAME tag: it would need a seek back to the start, which a pipe cannot do.
            AudioFormat.Mp3 => ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"],
            AudioFormat.Opus => ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
            AudioFormat.Aac => ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
            AudioFormat.Flac => ["-c:a", "flac", "-f", "flac"],
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        });
        args.AddRange(["-flush_packets", "1", "pipe:1"]);
        return args;
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken) => run.WriteAsync(samples, cancellationToken);

    /// <inheritdoc />
    public override Task CompleteAsync(CancellationToken cancellationToken) => run.CompleteAsync(cancellationToken);

    /// <inheritdoc />
    protected override ValueTask DisposeAsyncCore() => run.DisposeAsync();
}

/// <summary>
/// One ffmpeg process: started at once, its output handed to a sink attached later (a spare waits, blocked on its
/// empty input, until an encoder takes it). Input flows through a bounded channel, so a slow ffmpeg slows the writer.
/// </summary>
internal sealed class FfmpegRun : IAsyncDisposable
{
    private readonly Channel<byte[]> input = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>> sink = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource abandon = new();
    private readonly Task<MediaProcessResult> run;
    private bool completed;

    public FfmpegRun(AudioFormat format, int sampleRate, FfmpegOptions options)
    {
        Started = options.TimeProvider.GetUtcNow();
        run = MediaProcess.RunAsync(options.Executable, FfmpegEncoder.Arguments(format, sampleRate), FeedAsync, ForwardAsync, options.Limits, abandon.Token);
    }

    /// <summary>When the process was started, on <see cref="FfmpegOptions.TimeProvider"/>.</summary>
    public DateTimeOffset Started { get; }

    /// <summary>Whether the process has ended (a spare that died is not taken).</summary>
    public bool HasEnded => run.IsCompleted;

    public void Attach(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output) => sink.TrySetResult(output);

    public async ValueTask WriteAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(completed, this);
        if (samples.IsEmpty)
        {
            return;
        }

        if (run.IsCompleted)
        {
            // ffmpeg is gone before its input ended: surface its failure now instead of writing into nothing.
            await run.ConfigureAwait(false);
            throw new MediaProcessException(MediaProcessFailure.PipeFailed, "'ffmpeg' stopped before its input ended.");
        }

        var bytes = Pcm16.FromFloat(samples.Span);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, abandon.Token);
        var write = input.Writer.WriteAsync(bytes, linked.Token).AsTask();
        if (await Task.WhenAny(write, run).ConfigureAwait(false) == run && !write.IsCompleted)
        {
            await run.ConfigureAwait(false);
            throw new MediaProcessException(MediaProcessFailure.PipeFailed, "'ffmpeg' stopped before its input ended.");
        }

        await write.ConfigureAwait(false);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (completed)
        {
            return;
        }

        completed = true;
        input.Writer.TryComplete();
        using var registration = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), abandon);
        await run.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        input.Writer.TryComplete();
        if (!run.IsCompleted)
        {
            await abandon.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await run.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MediaProcessException)
        {
            // Abandoned, or already reported to the caller of CompleteAsync.
        }

        abandon.Dispose();
    }

    private async Task FeedAsync(Stream stdin, CancellationToken cancellationToken)
    {
        await foreach (var chunk in input.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await stdin.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ForwardAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        var output = await sink.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await output(chunk, cancellationToken).ConfigureAwait(false);
    }
}
