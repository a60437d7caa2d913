using System.Text;
using System.Text.RegularExpressions;
using Capa.Cli.Commands;
using Capa.Cli.Repro;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

public sealed class ReproCommandTests : IAsyncLifetime
{
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SeededRunsAreReproducibleAndUnseededRunsDiffer()
    {
        var (exit, output) = await RunAsync("--no-color");

        Assert.Equal(0, exit);
        // Two unseeded tables, then their diff, then two seeded tables and "No differences found." once.
        Assert.Equal(4, Regex.Count(output, "System Fingerprint"));
        Assert.Equal(4, Regex.Count(output, FakeOpenAiServer.Fingerprint));
        Assert.Equal(4, Regex.Count(output, "Number of completion tokens"));
        Assert.Contains("Run 1/2 without seed", output, StringComparison.Ordinal);
        Assert.Contains("Run 2/2 with seed 123", output, StringComparison.Ordinal);
        Assert.Equal(1, Regex.Count(output, Regex.Escape(ReportRows.NoDifferences)));
        int seededStart = output.IndexOf("Run 1/2 with seed 123", StringComparison.Ordinal);
        Assert.True(output.IndexOf(ReportRows.NoDifferences, StringComparison.Ordinal) > seededStart);
        Assert.Matches(new Regex("^- ", RegexOptions.Multiline), output[..seededStart]);
        Assert.Matches(new Regex("^\\+ ", RegexOptions.Multiline), output[..seededStart]);

        // The seeded story is exactly the one the fake derives from seed 123, its seed echoed in x-capa-seed.
        Assert.Contains("x-capa-seed", output, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(output, @"│ x-capa-seed\s+│ 123\s"));
        Assert.Contains("With seed 123: determinism rate 100% (2/2 runs equal to run 1), 1 distinct output(s)", output, StringComparison.Ordinal);
        Assert.Contains("Without seed: determinism rate 50% (1/2 runs equal to run 1), 2 distinct output(s)", output, StringComparison.Ordinal);
        Assert.Contains("Seeded runs are reproducible", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnseededDiffIsColouredWhenColourIsForced()
    {
        var (exit, output) = await RunAsync("--color", "always", "--runs", "3");

        Assert.Equal(0, exit);
        string unseeded = output[..output.IndexOf("Run 1/3 with seed", StringComparison.Ordinal)];
        // Deleted lines start in red (SGR 31 or bright 91), inserted ones in green (32 or 92).
        Assert.Matches(new Regex("\u001b\\[(?:[0-9;]*;)?(?:31|91)m- "), unseeded);
        Assert.Matches(new Regex("\u001b\\[(?:[0-9;]*;)?(?:32|92)m\\+ "), unseeded);
        Assert.Equal(4, Regex.Count(output, @"Diff of run \d → run \d:"));
        Assert.Equal(2, Regex.Count(output, Regex.Escape(ReportRows.NoDifferences)));
    }

    [Fact]
    public async Task SeededRunsThatDifferUnderOneFingerprintExitWithOne()
    {
        var (exit, output) = await RunAsync("--model", "flaky", "--no-color");

        Assert.Equal(1, exit);
        Assert.Contains($"NOT REPRODUCIBLE: seeded runs with the same system fingerprint ({FakeOpenAiServer.Fingerprint})", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeededRunsWithDifferentFingerprintsMayDiffer()
    {
        var (exit, output) = await RunAsync("--model", "drifting", "--no-color");

        Assert.Equal(0, exit);
        Assert.Contains("the fingerprint changed between runs", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HtmlReportHoldsTheSameTablesAndDiffs()
    {
        string path = Path.Combine(Path.GetTempPath(), $"capa-repro-{Guid.NewGuid():N}.html");
        try
        {
            var (exit, output) = await RunAsync("--no-color", "--html", path, "讲一个故事");

            Assert.Equal(0, exit);
            Assert.Contains($"HTML report: {path}", output, StringComparison.Ordinal);
            byte[] bytes = await File.ReadAllBytesAsync(path);
            Assert.False(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble));
            string html = Encoding.UTF8.GetString(bytes);
            Assert.Equal(4, Regex.Count(html, "<table class=\"run\">"));
            Assert.Contains("讲一个故事", html, StringComparison.Ordinal);
            Assert.Contains(ReportRows.NoDifferences, html, StringComparison.Ordinal);
            Assert.Contains("<table class=\"diff\">", html, StringComparison.Ordinal);

            // The seeded story in the page is the one in the console, escaped ("<signal>", "&" and quotes occur in it).
            string story = FakeOpenAiServer.Story(123);
            Assert.Contains(HtmlReport.Escape(story), html, StringComparison.Ordinal);
            Assert.DoesNotContain("<signal>", html, StringComparison.Ordinal);
            foreach (string line in story.Split('\n'))
            {
                Assert.Contains(line, output, StringComparison.Ordinal);
            }

            foreach (string summaryLine in output.Split('\n').Where(l => l.StartsWith("With", StringComparison.Ordinal)))
            {
                Assert.Contains(HtmlReport.Escape(summaryLine.TrimEnd('\r')), html, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task SendsTheTutorialsRequest()
    {
        var (exit, _) = await RunAsync("--no-color", "--runs", "1");

        Assert.Equal(0, exit);
        string body = _server.LastRequestBody!;
        Assert.Contains("\"model\":\"gpt-3.5-turbo-1106\"", body, StringComparison.Ordinal);
        Assert.Contains(ReproCommand.DefaultSystem, body, StringComparison.Ordinal);
        Assert.Contains(ReproCommand.DefaultPrompt, body, StringComparison.Ordinal);
        Assert.Contains("\"seed\":123", body, StringComparison.Ordinal);
        Assert.Matches("\"max_(completion_)?tokens\":200", body);
        Assert.Contains("\"temperature\":0.7", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerErrorsExitWithOne()
    {
        var (exit, output) = await RunAsync("--model", "error", "--no-color");
        Assert.Equal(1, exit);
        Assert.DoesNotContain("Run 1/2", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--runs", "101")]
    [InlineData("--max-tokens", "0")]
    [InlineData("--temperature", "2.5")]
    [InlineData("--color", "sometimes")]
    public async Task BadOptionsExitWithOneBeforeAnyRequest(string option, string value)
    {
        var (exit, _) = await RunAsync(option, value);
        Assert.NotEqual(0, exit);
        Assert.Null(_server.LastRequestBody);
    }

    [Fact]
    public async Task HtmlPathInAMissingFolderIsRefusedBeforeAnyRequest()
    {
        var (exit, _) = await RunAsync("--html", Path.Combine(Path.GetTempPath(), $"capa-missing-{Guid.NewGuid():N}", "report.html"));
        Assert.Equal(1, exit);
        Assert.Null(_server.LastRequestBody);
    }

    [Fact]
    public async Task PromptTwiceIsRefused()
    {
        var (exit, _) = await RunAsync("one", "--prompt", "two");
        Assert.Equal(1, exit);
        Assert.Null(_server.LastRequestBody);
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        CommandHarness.RunAsync(ReproCommand.Create(), ["--base-url", _server.BaseUrl.ToString(), "--api-key", "test", .. args]);
}
