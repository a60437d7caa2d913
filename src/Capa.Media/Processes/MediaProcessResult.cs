namespace Capa.Media.Processes;

/// <summary>What a successful run of an external tool left behind.</summary>
public sealed record MediaProcessResult
{
    /// <summary>Bytes the tool wrote to standard output (all of them were handed to the output sink).</summary>
    public required long OutputBytes { get; init; }

    /// <summary>The tail of standard error, bounded by <see cref="MediaProcessLimits.MaxStandardErrorBytes"/>.</summary>
    public required string StandardError { get; init; }

    /// <summary>Time from start to exit.</summary>
    public required TimeSpan Elapsed { get; init; }
}
