using System.Collections.Concurrent;

namespace Capa.Media.Codecs;

/// <summary>
/// One ffmpeg started ahead of time per executable, format and rate, so that a stream does not wait for ffmpeg to
/// load (hundreds of milliseconds on a busy machine, most of an mp3 stream's time to first byte). Taking the spare
/// starts the next one in the background. A spare older than <see cref="MaxAge"/> is replaced rather than used, so
/// its time limit never runs short (its age is read on <see cref="FfmpegOptions.TimeProvider"/>); spares end with the process (their standard input closes).
/// </summary>
internal static class FfmpegSpares
{
    /// <summary>Oldest spare still taken.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private static readonly ConcurrentDictionary<(string Executable, AudioFormat Format, int Rate, TimeSpan Timeout, long MaxOutput), FfmpegRun> Spares = new();

    public static FfmpegRun Take(AudioFormat format, int sampleRate, FfmpegOptions options)
    {
        var key = (options.Executable, format, sampleRate, options.Limits.Timeout, options.Limits.MaxOutputBytes);
        FfmpegRun? run = null;
        if (Spares.TryRemove(key, out var spare))
        {
            if (!spare.HasEnded && options.TimeProvider.GetUtcNow() - spare.Started < MaxAge && options.Limits.Timeout > MaxAge * 2)
            {
                run = spare;
            }
            else
            {
                _ = spare.DisposeAsync().AsTask();
            }
        }

        run ??= new FfmpegRun(format, sampleRate, options);
        var next = new FfmpegRun(format, sampleRate, options);
        if (!Spares.TryAdd(key, next))
        {
            _ = next.DisposeAsync().AsTask();
        }

        return run;
    }
}
