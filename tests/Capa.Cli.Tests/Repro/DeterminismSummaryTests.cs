using Capa.Cli.Repro;

namespace Capa.Cli.Tests.Repro;

public sealed class DeterminismSummaryTests
{
    [Fact]
    public void AllEqualIsFullyDeterministic()
    {
        var summary = DeterminismSummary.Compute([Run(1, "x"), Run(2, "x"), Run(3, "x")]);
        Assert.Equal(new DeterminismSummary(3, 3, 1, 1), summary);
        Assert.Equal(1.0, summary.Rate);
    }

    [Fact]
    public void RateCountsRunsEqualToTheFirst()
    {
        // Runs 2 and 3 agree with each other but not with run 1: only run 1 equals run 1.
        var summary = DeterminismSummary.Compute([Run(1, "a"), Run(2, "b"), Run(3, "b"), Run(4, "a")]);
        Assert.Equal(4, summary.Runs);
        Assert.Equal(2, summary.IdenticalToFirst);
        Assert.Equal(2, summary.DistinctOutputs);
        Assert.Equal(0.5, summary.Rate);
    }

    [Fact]
    public void EmptyGroup()
    {
        var summary = DeterminismSummary.Compute([]);
        Assert.Equal(0, summary.Rate);
        Assert.Equal(0, summary.DistinctOutputs);
    }

    [Fact]
    public void DifferentOutputsUnderOneFingerprintBreakTheGuarantee()
    {
        Assert.Equal(["fp_1"], DeterminismSummary.FingerprintsWithDifferentOutputs([Run(1, "a", "fp_1"), Run(2, "b", "fp_1")]));
        Assert.Empty(DeterminismSummary.FingerprintsWithDifferentOutputs([Run(1, "a", "fp_1"), Run(2, "b", "fp_2")]));
        Assert.Empty(DeterminismSummary.FingerprintsWithDifferentOutputs([Run(1, "a", null), Run(2, "b", null)]));
        Assert.Empty(DeterminismSummary.FingerprintsWithDifferentOutputs([Run(1, "a", "fp_1"), Run(2, "a", "fp_1")]));
    }

    [Fact]
    public void ReportFailsOnlyForSeededRuns()
    {
        var settings = new ReproSettings { Model = "m", System = "s", Prompt = "p" };
        var unseeded = new ReproGroup("Without seed", null, [Run(1, "a"), Run(2, "b")]);
        var goodSeeded = new ReproGroup("With seed 1", 1, [Run(1, "c"), Run(2, "c")]);
        var badSeeded = new ReproGroup("With seed 1", 1, [Run(1, "c"), Run(2, "d")]);
        Assert.False(new ReproReport(settings, unseeded, goodSeeded).Failed);
        Assert.True(new ReproReport(settings, unseeded, badSeeded).Failed);
        Assert.Contains("NOT REPRODUCIBLE", ReportRows.Verdict(new ReproReport(settings, unseeded, badSeeded)), StringComparison.Ordinal);
        Assert.Equal(
            "Without seed: determinism rate 50% (1/2 runs equal to run 1), 2 distinct output(s), 1 distinct system fingerprint(s).",
            ReportRows.SummaryLine(unseeded));
    }

    internal static ReproRun Run(int number, string content, string? fingerprint = "fp_1") =>
        new(number, null, content, fingerprint, 10, 20, null, "stop");
}
