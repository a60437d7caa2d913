namespace Capa.Media.Processes;

/// <summary>
/// Bounds on one run of an external media tool: how long it may take and how much it may write. A run that breaks
/// one is killed with its whole process tree.
/// </summary>
public sealed record MediaProcessLimits
{
    /// <summary>The defaults: one minute, 256 MiB of output, 16 KiB of standard error kept.</summary>
    public static MediaProcessLimits Default { get; } = new();

    /// <summary>Wall-clock limit for the whole run, from start to exit. Default one minute.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Most bytes accepted on standard output; one more kills the run. Default 256 MiB.</summary>
    public long MaxOutputBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Most bytes of standard error kept for diagnostics (the last ones: tools print the reason for failing last).
    /// The rest is read and dropped, so a chatty tool never blocks on a full pipe. Default 16 KiB.
    /// </summary>
    public int MaxStandardErrorBytes { get; init; } = 16 * 1024;

    /// <summary>Checks that every bound is positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is zero or negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxOutputBytes, nameof(MaxOutputBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxStandardErrorBytes, nameof(MaxStandardErrorBytes));
    }
}
