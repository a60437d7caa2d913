using System.Text.RegularExpressions;
using Capa.Cli.Repro;

namespace Capa.Cli.Tests.Repro;

public sealed class HtmlReportTests
{
    private static readonly ReproSettings Settings = new()
    {
        Model = "m<1>",
        System = "You are <b>bold</b>",
        Prompt = "讲一个关于火星的故事 & \"quotes\"",
        Endpoint = "http://127.0.0.1:1/v1",
    };

    [Fact]
    public void EscapesEveryPieceOfModelOutput()
    {
        var report = Report(
            [Run(1, null, "<script>alert('x')</script>\nline & more"), Run(2, null, "<script>alert('y')</script>\nline & more")],
            [Run(1, 7, "same"), Run(2, 7, "same")]);
        string html = HtmlReport.Render(report);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("line &amp; more", html, StringComparison.Ordinal);
        Assert.Contains("m&lt;1&gt;", html, StringComparison.Ordinal);
        Assert.Contains("讲一个关于火星的故事 &amp; &quot;quotes&quot;", html, StringComparison.Ordinal);
    }

    [Fact]
    public void HoldsBothGroupsTablesDiffsAndSummary()
    {
        var report = Report(
            [Run(1, null, "The crew landed.\n火星很红。"), Run(2, null, "The crew crashed.\n火星很红。")],
            [Run(1, 123, "identical"), Run(2, 123, "identical")]);
        string html = HtmlReport.Render(report);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<meta charset=\"utf-8\">", html, StringComparison.Ordinal);
        Assert.Contains("<style>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.Equal(4, Regex.Count(html, "<table class=\"run\">"));
        foreach (var field in new[] { "Response", "System Fingerprint", "Number of prompt tokens", "Number of completion tokens", "x-capa-seed" })
        {
            Assert.Equal(4, Regex.Count(html, $"<th>{field}</th>"));
        }

        Assert.Contains("<h2>Without seed</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>With seed 123</h2>", html, StringComparison.Ordinal);

        // The unseeded diff: one deleted and one inserted line, the changed word marked, the shared line unmarked.
        Assert.Contains("<tr class=\"del\"><td>- The crew <del>landed</del>.</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"ins\"><td>+ The crew <ins>crashed</ins>.</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>  火星很红。</td></tr>", html, StringComparison.Ordinal);

        // The seeded pair is identical.
        Assert.Equal(1, Regex.Count(html, Regex.Escape(ReportRows.NoDifferences)));
        Assert.Contains(ReportRows.SummaryLine(report.Unseeded), html, StringComparison.Ordinal);
        Assert.Contains(ReportRows.SummaryLine(report.Seeded), html, StringComparison.Ordinal);
        Assert.Contains("class=\"ok\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void FailedReportSaysSo()
    {
        var report = Report([Run(1, null, "a"), Run(2, null, "a")], [Run(1, 5, "a"), Run(2, 5, "b")]);
        string html = HtmlReport.Render(report);
        Assert.Contains("<p class=\"fail\">NOT REPRODUCIBLE", html, StringComparison.Ordinal);
    }

    private static ReproReport Report(IReadOnlyList<ReproRun> unseeded, IReadOnlyList<ReproRun> seeded) =>
        new(Settings, new ReproGroup("Without seed", null, unseeded), new ReproGroup($"With seed {seeded[0].RequestedSeed}", seeded[0].RequestedSeed, seeded));

    private static ReproRun Run(int number, long? seed, string content) =>
        new(number, seed, content, "fp_abc", 27, 50, (seed ?? 99).ToString(System.Globalization.CultureInfo.InvariantCulture), "stop");
}
