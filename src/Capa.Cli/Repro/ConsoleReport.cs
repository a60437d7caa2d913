using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Capa.Cli.Repro;

/// <summary>Renders runs, diffs and summaries of <c>capa repro</c> on a terminal (or any text writer).</summary>
internal sealed class ConsoleReport
{
    // SGR codes written directly, not through Spectre's markup: diff lines and summaries must not be re-wrapped
    // at an assumed width (a wrapped diff line loses its "- " / "+ " prefix), and a pipe should get them whole.
    private const string Reset = "\u001b[0m";
    private const string Red = "\u001b[31m";
    private const string Green = "\u001b[32m";
    private const string Bold = "\u001b[1m";
    private const string ChangedOn = "\u001b[1;4m";
    private const string ChangedOff = "\u001b[22;24m";

    private readonly TextWriter _output;
    private readonly bool _color;
    private readonly IAnsiConsole _console;

    public ConsoleReport(TextWriter output, bool color)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _color = color;
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
        _output.WriteLine(Printable(string.Create(CultureInfo.InvariantCulture,
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
            table.AddRow(new Markup($"[bold]{Markup.Escape(field)}[/]"), new Text(Printable(value)));
        }

        _console.Write(table);
    }

    public void Diff(RunDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        _output.WriteLine($"Diff of run {diff.FromRun} → run {diff.ToRun}:");
        if (!diff.Diff.HasDifferences)
        {
            _output.WriteLine(ReportRows.NoDifferences);
            return;
        }

        var line = new StringBuilder();
        foreach (var diffLine in diff.Diff.Lines)
        {
            line.Clear();
            string? colour = diffLine.Kind switch
            {
                DiffKind.Delete => Red,
                DiffKind.Insert => Green,
                _ => null,
            };
            if (_color && colour is not null)
            {
                line.Append(colour);
            }

            line.Append(diffLine.Kind switch { DiffKind.Delete => "- ", DiffKind.Insert => "+ ", _ => "  " });
            foreach (var span in diffLine.Spans)
            {
                // Whole-line changes stay in the line's colour; word highlights only make sense against unchanged words.
                bool highlight = _color && colour is not null && span.Changed && diffLine.Spans.Count > 1;
                line.Append(highlight ? ChangedOn : string.Empty).Append(Printable(span.Text)).Append(highlight ? ChangedOff : string.Empty);
            }

            if (_color && colour is not null)
            {
                line.Append(Reset);
            }

            _output.WriteLine(line.ToString());
        }
    }

    public void Summary(ReproReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _output.WriteLine();
        foreach (var group in new[] { report.Unseeded, report.Seeded })
        {
            _output.WriteLine(Printable(ReportRows.SummaryLine(group)));
        }

        string verdict = Printable(ReportRows.Verdict(report));
        _output.WriteLine(_color && report.Failed ? Bold + Red + verdict + Reset : verdict);
        _output.Flush();
    }

    /// <summary>
    /// Model output goes to a terminal: control characters (an ESC could rewrite the screen) are shown as their
    /// Unicode control pictures instead of being obeyed. Tabs stay.
    /// </summary>
    internal static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.ReplaceLineEndings("\n");
        if (!text.AsSpan().ContainsAnyInRange('\u0000', '\u001f') && !text.Contains('\u007f', StringComparison.Ordinal))
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            sb.Append(c switch
            {
                '\t' or '\n' => c,
                < '\u0020' => (char)(0x2400 + c),
                '\u007f' => '\u2421',
                _ => c,
            });
        }

        return sb.ToString();
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
            $"{group.Title}: determinism rate {s.Rate * 100:0.#}% ({s.IdenticalToFirst}/{s.Runs} runs equal to run 1), "
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
