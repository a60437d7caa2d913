using System.CommandLine;
using System.Globalization;
using System.Text;
using Capa.Cli.Repro;
using Capa.Protocol;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa repro</c>: the reproducible-output experiment. The same chat request runs N times without a seed,
/// then N times with one; each run is shown as a table, consecutive runs are diffed, and the exit code says
/// whether seeded runs with equal system fingerprints gave equal outputs.
/// </summary>
internal static class ReproCommand
{
    internal const string DefaultModel = "gpt-3.5-turbo-1106";
    internal const string DefaultSystem = "You are a helpful assistant that generates short stories.";
    internal const string DefaultPrompt = "Generate a short story about a journey to Mars.";
    internal const int MaxRuns = 100;

    public static Command Create()
    {
        var promptArgument = new Argument<string?>("prompt")
        {
            Description = $"The user message (or --prompt; default \"{DefaultPrompt}\").",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var promptOption = new Option<string?>("--prompt", "-p") { Description = "The user message (same as the positional argument)." };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => DefaultModel };
        var system = new Option<string>("--system", "-s") { Description = "The system message.", DefaultValueFactory = _ => DefaultSystem };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of each request.", DefaultValueFactory = _ => 200 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature, 0 to 2.", DefaultValueFactory = _ => 0.7f };
        var runs = new Option<int>("--runs", "-n")
        {
            Description = $"Runs per group (1 to {MaxRuns}): N without a seed, then N with --seed.",
            DefaultValueFactory = _ => 2,
        };
        var seed = new Option<long>("--seed") { Description = "The seed of the seeded group.", DefaultValueFactory = _ => 123 };
        var html = new Option<string?>("--html") { Description = "Also write the tables and diffs as one self-contained HTML page to this file." };
        var noColor = new Option<bool>("--no-color") { Description = "Plain text: no colours (also when NO_COLOR is set or the output is not a terminal)." };
        var color = new Option<string>("--color")
        {
            Description = "auto (colour on a terminal), always or never.",
            DefaultValueFactory = _ => "auto",
        };
        color.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "auto", "always", "never");
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();

        var command = new Command(
            "repro",
            "Check reproducible output: run one request N times without a seed and N times with a seed, show each run, "
            + "diff consecutive runs (deletions red, additions green) and summarise. Determinism rate of a group = "
            + "runs whose output equals the first run's output (the first included) / runs. Exit code 1 when seeded "
            + "runs with the same system_fingerprint differ (runs without a fingerprint are not compared), else 0.")
        {
            promptArgument, promptOption, model, system, maxTokens, temperature, runs, seed, html, noColor, color, baseUrl, apiKey,
        };

        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            int verdict = 0;
            int status = await CliRunner.RunAsync(async () =>
            {
                string prompt = ResolvePrompt(parse.GetValue(promptArgument), parse.GetValue(promptOption));
                var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
                var settings = Validate(new ReproSettings
                {
                    Model = parse.GetValue(model)!,
                    System = parse.GetValue(system)!,
                    Prompt = prompt,
                    MaxTokens = parse.GetValue(maxTokens),
                    Temperature = parse.GetValue(temperature),
                    Runs = parse.GetValue(runs),
                    Seed = parse.GetValue(seed),
                    Endpoint = connection.BaseUrl.ToString(),
                });
                string? htmlPath = parse.GetValue(html) is { Length: > 0 } file ? Path.GetFullPath(file) : null;
                if (htmlPath is not null && (Directory.Exists(htmlPath) || !Directory.Exists(Path.GetDirectoryName(htmlPath))))
                {
                    // Found out now, not after minutes of generation.
                    throw new CliException($"--html: cannot write {htmlPath}: {(Directory.Exists(htmlPath) ? "it is a folder" : "its folder does not exist")}.");
                }

                bool useColor = ResolveColor(parse.GetValue(color)!, parse.GetValue(noColor), output);

                var report = await RunAsync(connection, settings, output, useColor, ct).ConfigureAwait(false);
                if (htmlPath is not null)
                {
                    WriteHtml(htmlPath, report);
                    output.WriteLine($"HTML report: {htmlPath}");
                }

                verdict = report.Failed ? 1 : 0;
            }).ConfigureAwait(false);
            return status != 0 ? status : verdict;
        });
        return command;
    }

    /// <summary>Runs both groups, printing each run as it arrives, then the diffs and the summary.</summary>
    internal static async Task<ReproReport> RunAsync(ClientConnection connection, ReproSettings settings, TextWriter output, bool color, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var console = new ConsoleReport(output, color);
        console.Header(settings);
        var runner = new ReproRunner(connection.CreateClient().GetChatClient(settings.Model), settings, connection.BaseUrl);
        var groupRuns = new List<ReproRun>(settings.Runs);
        var report = await runner.RunAsync((kind, run) =>
        {
            console.Run(kind, run, settings.Runs);
            groupRuns.Add(run);
            if (groupRuns.Count == settings.Runs)
            {
                // A group is complete: its diffs come before the next group's runs, as in the tutorial.
                foreach (var diff in new ReproGroup(string.Empty, run.RequestedSeed, groupRuns).Diffs)
                {
                    console.Diff(diff);
                }

                groupRuns = new List<ReproRun>(settings.Runs);
            }
        }, ct).ConfigureAwait(false);

        console.Summary(report);
        return report;
    }

    internal static string ResolvePrompt(string? positional, string? option)
    {
        if (!string.IsNullOrEmpty(positional) && !string.IsNullOrEmpty(option) && positional != option)
        {
            throw new CliException("Give the prompt either as an argument or with --prompt, not both.");
        }

        string prompt = FirstNonEmpty(positional, option) ?? DefaultPrompt;
        return string.IsNullOrWhiteSpace(prompt) ? throw new CliException("The prompt is empty.") : prompt;
    }

    private static ReproSettings Validate(ReproSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.Model))
        {
            throw new CliException("--model must not be empty.");
        }

        if (settings.Runs is < 1 or > MaxRuns)
        {
            throw new CliException($"--runs must be between 1 and {MaxRuns}; got {settings.Runs}.");
        }

        if (settings.MaxTokens < 1)
        {
            throw new CliException($"--max-tokens must be at least 1; got {settings.MaxTokens}.");
        }

        if (!SamplingRanges.Temperature.Contains(settings.Temperature))
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"--temperature must be {SamplingRanges.Temperature}; got {settings.Temperature}."));
        }

        return settings;
    }

    private static bool ResolveColor(string mode, bool noColor, TextWriter output)
    {
        if (noColor || mode.Equals("never", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (mode.Equals("always", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        // auto: colour only for a real terminal, and never when NO_COLOR (https://no-color.org) is set.
        return ReferenceEquals(output, Console.Out)
            && !Console.IsOutputRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
            && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
    }

    private static void WriteHtml(string path, ReproReport report)
    {
        try
        {
            File.WriteAllText(path, HtmlReport.Render(report), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliException($"cannot write the HTML report to {path}: {e.Message}");
        }
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrEmpty(v));
}
