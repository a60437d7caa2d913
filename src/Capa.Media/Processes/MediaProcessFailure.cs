namespace Capa.Media.Processes;

/// <summary>Why a run of an external tool failed.</summary>
public enum MediaProcessFailure
{
    /// <summary>The executable could not be started (missing, not executable).</summary>
    StartFailed,

    /// <summary>The run passed <see cref="MediaProcessLimits.Timeout"/> and was killed.</summary>
    TimedOut,

    /// <summary>The tool wrote more than <see cref="MediaProcessLimits.MaxOutputBytes"/> and was killed.</summary>
    OutputTooLarge,

    /// <summary>The tool exited with a non-zero status (or was killed by a signal).</summary>
    ExitCode,

    /// <summary>Feeding standard input or consuming standard output failed in the caller's code.</summary>
    PipeFailed,
}
