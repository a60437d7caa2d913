namespace Capa.Cli.Repro;

/// <summary>The request <c>capa repro</c> repeats, and how often.</summary>
internal sealed record ReproSettings
{
    public required string Model { get; init; }

    public required string System { get; init; }

    public required string Prompt { get; init; }

    public int MaxTokens { get; init; } = 200;

    public float Temperature { get; init; } = 0.7f;

    /// <summary>Runs per group: this many without a seed, then this many with <see cref="Seed"/>.</summary>
    public int Runs { get; init; } = 2;

    public long Seed { get; init; } = 123;

    /// <summary>The endpoint, for the report's header only.</summary>
    public string Endpoint { get; init; } = string.Empty;
}

/// <summary>One completion of the repeated request.</summary>
/// <param name="Number">1-based position within its group.</param>
/// <param name="RequestedSeed">The seed sent, or null for the unseeded group.</param>
/// <param name="Content">The first choice's text (empty when the server sent none).</param>
/// <param name="SystemFingerprint">The response's <c>system_fingerprint</c>, if any.</param>
/// <param name="PromptTokens">usage.prompt_tokens, if reported.</param>
/// <param name="CompletionTokens">usage.total_tokens - usage.prompt_tokens, as the tutorial computes it.</param>
/// <param name="SeedHeader">The <c>x-capa-seed</c> response header: the seed the server used, to replay the run.</param>
/// <param name="FinishReason">The first choice's finish reason.</param>
internal sealed record ReproRun(
    int Number,
    long? RequestedSeed,
    string Content,
    string? SystemFingerprint,
    int? PromptTokens,
    int? CompletionTokens,
    string? SeedHeader,
    string? FinishReason);

/// <summary>The diff between two consecutive runs of a group.</summary>
internal sealed record RunDiff(int FromRun, int ToRun, TextDiffResult Diff);

/// <summary>The runs that share a seed setting (all unseeded, or all with the same seed).</summary>
internal sealed record ReproGroup(string Title, long? Seed, IReadOnlyList<ReproRun> Runs)
{
    /// <summary>Diffs of run 1 → 2, 2 → 3, …</summary>
    public IReadOnlyList<RunDiff> Diffs { get; } = [.. Runs.Zip(Runs.Skip(1), (a, b) => new RunDiff(a.Number, b.Number, TextDiff.Compute(a.Content, b.Content)))];

    public DeterminismSummary Summary { get; } = DeterminismSummary.Compute(Runs);
}

/// <summary>Everything one <c>capa repro</c> produced: the console and the HTML report render this.</summary>
internal sealed record ReproReport(ReproSettings Settings, ReproGroup Unseeded, ReproGroup Seeded)
{
    /// <summary>
    /// Fingerprints under which seeded runs gave different outputs. Non-empty means the endpoint broke the
    /// promise "same seed, same fingerprint, same output"; runs without a fingerprint promise nothing and are skipped.
    /// </summary>
    public IReadOnlyList<string> BrokenFingerprints { get; } = DeterminismSummary.FingerprintsWithDifferentOutputs(Seeded.Runs);

    /// <summary>True when the seeded runs fail the reproducibility check (exit code 1).</summary>
    public bool Failed => BrokenFingerprints.Count > 0;
}
