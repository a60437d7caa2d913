using System.Globalization;
using System.Text;

namespace Capa.Cli.Repro;

/// <summary>
/// The <c>capa repro</c> report as one self-contained HTML page: inline CSS, no scripts, no external resources,
/// every piece of model output escaped, UTF-8 throughout (so Chinese and emoji survive as text).
/// </summary>
internal static class HtmlReport
{
    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1f2328;line-height:1.5}
        h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin-bottom:.3rem}
        table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
        th{background:#f6f8fa;white-space:nowrap;width:14rem}td.response{white-space:pre-wrap}
        table.diff td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;border:none;padding:.1rem .5rem}
        tr.del{color:#b31d28;background:#ffeef0}tr.ins{color:#22863a;background:#e6ffed}
        tr.del del{background:#fdb8c0;text-decoration:line-through}tr.ins ins{background:#acf2bd;text-decoration:none}
        .same{color:#57606a}.fail{color:#b31d28;font-weight:bold}.ok{color:#22863a;font-weight:bold}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
        """;

    public static string Render(ReproReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder(16 * 1024);
        var settings = report.Settings;
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>capa repro: ").Append(Escape(settings.Model)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n")
            .Append("<h1>Reproducible output: ").Append(Escape(settings.Model)).Append("</h1>\n<dl>\n");
        Definition(html, "Endpoint", settings.Endpoint);
        Definition(html, "System", settings.System);
        Definition(html, "Prompt", settings.Prompt);
        Definition(html, "max_tokens", settings.MaxTokens.ToString(CultureInfo.InvariantCulture));
        Definition(html, "temperature", settings.Temperature.ToString(CultureInfo.InvariantCulture));
        Definition(html, "Runs per group", settings.Runs.ToString(CultureInfo.InvariantCulture));
        html.Append("</dl>\n");

        foreach (var group in new[] { report.Unseeded, report.Seeded })
        {
            html.Append("<section>\n<h2>").Append(Escape(group.Title)).Append("</h2>\n");
            foreach (var run in group.Runs)
            {
                html.Append("<h3>Run ").Append(run.Number.ToString(CultureInfo.InvariantCulture)).Append("</h3>\n<table class=\"run\">\n");
                foreach (var (field, value) in ReportRows.Of(run))
                {
                    html.Append("<tr><th>").Append(Escape(field)).Append("</th><td")
                        .Append(field == "Response" ? " class=\"response\"" : string.Empty).Append('>')
                        .Append(Escape(value)).Append("</td></tr>\n");
                }

                html.Append("</table>\n");
            }

            foreach (var diff in group.Diffs)
            {
                AppendDiff(html, diff);
            }

            html.Append("<p class=\"summary\">").Append(Escape(ReportRows.SummaryLine(group))).Append("</p>\n</section>\n");
        }

        html.Append("<p class=\"").Append(report.Failed ? "fail" : "ok").Append("\">").Append(Escape(ReportRows.Verdict(report))).Append("</p>\n")
            .Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>Escapes text for element content and double- or single-quoted attribute values.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                case '\0': sb.Append('\uFFFD'); break; // HTML forbids NUL in text; show it as the replacement character
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
    }

    private static void AppendDiff(StringBuilder html, RunDiff diff)
    {
        html.Append("<h3>Diff of run ").Append(diff.FromRun.ToString(CultureInfo.InvariantCulture))
            .Append(" → run ").Append(diff.ToRun.ToString(CultureInfo.InvariantCulture)).Append("</h3>\n");
        if (!diff.Diff.HasDifferences)
        {
            html.Append("<p class=\"same\">").Append(ReportRows.NoDifferences).Append("</p>\n");
            return;
        }

        html.Append("<table class=\"diff\">\n");
        foreach (var line in diff.Diff.Lines)
        {
            (string cls, string prefix, string tag) = line.Kind switch
            {
                DiffKind.Delete => (" class=\"del\"", "- ", "del"),
                DiffKind.Insert => (" class=\"ins\"", "+ ", "ins"),
                _ => (string.Empty, "  ", string.Empty),
            };
            html.Append("<tr").Append(cls).Append("><td>").Append(prefix);
            foreach (var span in line.Spans)
            {
                bool highlight = span.Changed && line.Spans.Count > 1 && tag.Length > 0;
                if (highlight)
                {
                    html.Append('<').Append(tag).Append('>').Append(Escape(span.Text)).Append("</").Append(tag).Append('>');
                }
                else
                {
                    html.Append(Escape(span.Text));
                }
            }

            html.Append("</td></tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Definition(StringBuilder html, string term, string value) =>
        html.Append("<dt>").Append(Escape(term)).Append("</dt><dd>").Append(Escape(value)).Append("</dd>\n");
}
