namespace Capa.Cli.Repro;

/// <summary>
/// How reproducible a group of runs was. The determinism rate is the number of runs whose output equals the
/// first run's output (the first run included), divided by the number of runs: 1.0 when every run repeated
/// the first, 1/N when none did.
/// </summary>
/// <param name="Runs">Runs in the group.</param>
/// <param name="IdenticalToFirst">Runs whose output is byte-for-byte equal to the first run's (the first run counts).</param>
/// <param name="DistinctOutputs">How many different outputs the runs produced.</param>
/// <param name="DistinctFingerprints">How many different system fingerprints (a missing one counts as one value).</param>
internal sealed record DeterminismSummary(int Runs, int IdenticalToFirst, int DistinctOutputs, int DistinctFingerprints)
{
    /// <summary>IdenticalToFirst / Runs, or 0 for an empty group.</summary>
    public double Rate => Runs == 0 ? 0 : (double)IdenticalToFirst / Runs;

    public static DeterminismSummary Compute(IReadOnlyList<ReproRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            return new DeterminismSummary(0, 0, 0, 0);
        }

        string first = runs[0].Content;
        return new DeterminismSummary(
            runs.Count,
            runs.Count(r => string.Equals(r.Content, first, StringComparison.Ordinal)),
            runs.Select(r => r.Content).Distinct(StringComparer.Ordinal).Count(),
            runs.Select(r => r.SystemFingerprint ?? string.Empty).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>The fingerprints (in order of first appearance) under which the given runs produced more than one output.</summary>
    public static IReadOnlyList<string> FingerprintsWithDifferentOutputs(IReadOnlyList<ReproRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return [.. runs
            .Where(r => !string.IsNullOrEmpty(r.SystemFingerprint))
            .GroupBy(r => r.SystemFingerprint!, StringComparer.Ordinal)
            .Where(g => g.Select(r => r.Content).Distinct(StringComparer.Ordinal).Skip(1).Any())
            .Select(g => g.Key)];
    }
}
