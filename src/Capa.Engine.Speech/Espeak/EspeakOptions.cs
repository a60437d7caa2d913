using Capa.Media.Processes;

namespace Capa.Engine.Speech.Espeak;

/// <summary>How Capa runs espeak-ng.</summary>
public sealed record EspeakOptions
{
    /// <summary>The defaults.</summary>
    public static EspeakOptions Default { get; } = new();

    /// <summary>The executable: a path, or a name on <c>PATH</c>. Default <c>espeak-ng</c>.</summary>
    public string Executable { get; init; } = "espeak-ng";

    /// <summary>Language for text whose writing system names none (Latin letters, digits). Default <c>en-us</c>.</summary>
    public string DefaultLanguage { get; init; } = "en-us";

    /// <summary>
    /// Bounds on one espeak-ng run (a run of sentences in one language, at most 4096 characters: a few seconds of work): 60 s and
    /// 256 MiB of output by default.
    /// </summary>
    public MediaProcessLimits Limits { get; init; } = MediaProcessLimits.Default with { Timeout = TimeSpan.FromSeconds(60), MaxOutputBytes = 256L * 1024 * 1024 };
}
