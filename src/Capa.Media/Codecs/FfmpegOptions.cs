using Capa.Media.Processes;

namespace Capa.Media.Codecs;

/// <summary>How Capa runs ffmpeg.</summary>
public sealed record FfmpegOptions
{
    /// <summary>ffmpeg from <c>PATH</c> with <see cref="MediaProcessLimits.Default"/> bounds but a five-minute timeout.</summary>
    public static FfmpegOptions Default { get; } = new();

    /// <summary>The executable: a path, or a name looked up on <c>PATH</c>. Default <c>ffmpeg</c>.</summary>
    public string Executable { get; init; } = "ffmpeg";

    /// <summary>
    /// Keep one ffmpeg started ahead of time per format, so a stream does not wait for ffmpeg to load. Costs one idle
    /// process per format in use. Default false.
    /// </summary>
    public bool KeepSpare { get; init; }

    /// <summary>The clock that ages a spare (<see cref="KeepSpare"/>): one older than 30 seconds on it is replaced, not used. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Bounds on one run. The timeout covers a whole stream, so it is longer than the default.</summary>
    public MediaProcessLimits Limits { get; init; } = MediaProcessLimits.Default with { Timeout = TimeSpan.FromMinutes(5) };
}
