using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Capa.Cli.Repro;

/// <summary>Renders runs, diffs and summaries of <c>capa repro</c> on a terminal (or any text writer).</summary>
internal sealed class ConsoleReport
{
    private readonly IAnsiConsole _console;

    public ConsoleReport(TextWriter output, bool color)
    {
        ArgumentNullException.ThrowIfNull(output);
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
    }

    public void Header(ReproSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Reproducing: {settings.Runs} run(s) without a seed, then {settings.Runs} with seed {settings.Seed}; "
            + $"model {settings.Model}, max_tokens {settings.MaxTokens}, temperature {settings.Temperature}, endpoint {settings.Endpoint}")));
    }

    public void Run(ReproGroupKind kind, ReproRun run, int runsInGroup)
    {
        ArgumentNullException.ThrowIfNull(run);
        string title = kind == ReproGroupKind.Seeded
            ? $"Run {run.Number}/{runsInGroup} with seed {run.RequestedSeed}"
            : $"Run {run.Number}/{runsInGroup} without seed";
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title)).HideHeaders()
            .AddColumn(new TableColumn("Field").NoWrap())
            .AddColumn("Value");
        foreach (var (field, value) in ReportRows.Of(run))
        {
            table.AddRow(new Markup($"[bold]{Markup.Escape(field)}[/]"), new Text(value));
        }

        _console.Write(table);
    }

    public void Diff(RunDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        _console.MarkupLine(Markup.Escape($"Diff of run {diff.FromRun} → run {diff.ToRun}:"));
        if (!diff.Diff.HasDifferences)
        {
            _console.WriteLine(ReportRows.NoDifferences);
            return;
        }

        foreach (var line in diff.Diff.Lines)
        {
            var markup = new StringBuilder();
            switch (line.Kind)
            {
                case DiffKind.Equal:
                    markup.Append("  ").Append(Markup.Escape(line.Text));
                    break;
                case DiffKind.Delete:
                    AppendChanged(markup, "- ", line, "red", "bold white on red");
                    break;
                case DiffKind.Insert:
                    AppendChanged(markup, "+ ", line, "green", "bold black on green");
                    break;
            }

            _console.MarkupLine(markup.ToString());
        }
    }

    public void Summary(ReproReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _console.WriteLine();
        foreach (var group in new[] { report.Unseeded, report.Seeded })
        {
            _console.MarkupLine(Markup.Escape(ReportRows.SummaryLine(group)));
        }

        string verdict = ReportRows.Verdict(report);
        _console.MarkupLine(report.Failed ? $"[bold red]{Markup.Escape(verdict)}[/]" : Markup.Escape(verdict));
    }

    private static void AppendChanged(StringBuilder markup, string prefix, DiffLine line, string style, string changedStyle)
    {
        markup.Append('[').Append(style).Append(']').Append(prefix);
        foreach (var span in line.Spans)
        {
            // Whole-line changes stay in the line's colour; word highlights only make sense against unchanged words.
            bool highlight = span.Changed && line.Spans.Count > 1;
            markup.Append(highlight ? $"[{changedStyle}]{Markup.Escape(span.Text)}[/]" : Markup.Escape(span.Text));
        }

        markup.Append("[/]");
    }
}

/// <summary>The wording shared by the console and HTML reports, so both say the same thing.</summary>
internal static class ReportRows
{
    public const string NoDifferences = "No differences found.";

    public static IEnumerable<(string Field, string Value)> Of(ReproRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        yield return ("Response", run.Content);
        yield return ("System Fingerprint", run.SystemFingerprint ?? "(none)");
        yield return ("Number of prompt tokens", run.PromptTokens?.ToString(CultureInfo.InvariantCulture) ?? "(not reported)");
        yield return ("Number of completion tokens", run.CompletionTokens?.ToString(CultureInfo.InvariantCulture) ?? "(not reported)");
        if (run.SeedHeader is not null)
        {
            yield return (ReproRunner.SeedHeader, run.SeedHeader);
        }
    }

    public static string SummaryLine(ReproGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var s = group.Summary;
        return string.Create(CultureInfo.InvariantCulture,
            $"{group.Title}: determinism rate {s.Rate:P0} ({s.IdenticalToFirst}/{s.Runs} runs equal to run 1), "
            + $"{s.DistinctOutputs} distinct output(s), {s.DistinctFingerprints} distinct system fingerprint(s).");
    }

    public static string Verdict(ReproReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Failed)
        {
            return $"NOT REPRODUCIBLE: seeded runs with the same system fingerprint ({string.Join(", ", report.BrokenFingerprints)}) gave different outputs.";
        }

        var seeded = report.Seeded.Runs;
        if (seeded.Count < 2)
        {
            return "Only one seeded run: nothing to compare (use --runs 2 or more).";
        }

        if (seeded.All(r => string.IsNullOrEmpty(r.SystemFingerprint)))
        {
            return "The endpoint sent no system fingerprint: reproducibility cannot be checked.";
        }

        return report.Seeded.Summary.DistinctFingerprints > 1
            ? "Seeded runs are reproducible within each system fingerprint (the fingerprint changed between runs)."
            : "Seeded runs are reproducible: same seed, same fingerprint, same output.";
    }
}
