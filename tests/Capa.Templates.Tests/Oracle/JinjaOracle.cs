using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Templates.Tests.Oracle;

/// <summary>
/// Runs @huggingface/jinja (the renderer transformers.js uses) through <c>node tests/oracle/jinja-render.mjs</c>, with
/// JSON in and out through temporary files, and the same fixed clock as <see cref="FixedClock"/>.
/// </summary>
internal static class JinjaOracle
{
    private static readonly Lazy<string?> MissingReason = new(FindMissingReason);

    /// <summary>Why the oracle cannot run here, or null when it can.</summary>
    public static string? Unavailable => MissingReason.Value;

    public sealed record Result(string? Output, string? Error);

    /// <summary>Renders every case (id → template, variables JSON) in one node process.</summary>
    public static Dictionary<string, Result> RenderAll(IEnumerable<(string Id, string Template, string VariablesJson)> cases)
    {
        var input = new JsonObject
        {
            ["now"] = FixedClock.Now.ToString("o"),
            ["cases"] = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["template"] = c.Template,
                ["variables"] = JsonNode.Parse(c.VariablesJson),
            })]),
        };

        string inputPath = Path.GetTempFileName();
        string outputPath = Path.GetTempFileName();
        try
        {
            File.WriteAllText(inputPath, input.ToJsonString());
            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = RepositoryPaths.Root!,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            start.ArgumentList.Add(Path.Combine("tests", "oracle", "jinja-render.mjs"));
            start.ArgumentList.Add(inputPath);
            start.ArgumentList.Add(outputPath);
            start.Environment["TZ"] = "UTC";
            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("The jinja oracle did not finish within 60 seconds.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"The jinja oracle failed ({process.ExitCode}): {stderr.Result}");
            }

            using JsonDocument output = JsonDocument.Parse(File.ReadAllText(outputPath));
            var results = new Dictionary<string, Result>();
            foreach (JsonElement result in output.RootElement.GetProperty("results").EnumerateArray())
            {
                results[result.GetProperty("id").GetString()!] = new Result(
                    result.TryGetProperty("output", out JsonElement o) ? o.GetString() : null,
                    result.TryGetProperty("error", out JsonElement e) ? e.GetString() : null);
            }

            return results;
        }
        finally
        {
            File.Delete(inputPath);
            File.Delete(outputPath);
        }
    }

    private static string? FindMissingReason()
    {
        if (RepositoryPaths.Root is not { } root)
        {
            return "Skipped: the repository root (Capa.slnx) was not found from the test binaries.";
        }

        if (!File.Exists(Path.Combine(root, "tests", "oracle", "node_modules", "@huggingface", "jinja", "package.json")))
        {
            return "Skipped: tests/oracle/node_modules/@huggingface/jinja is not installed (run npm ci in tests/oracle).";
        }

        try
        {
            var start = new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process process = Process.Start(start)!;
            process.StandardOutput.ReadToEnd();
            return process.WaitForExit(TimeSpan.FromSeconds(20)) && process.ExitCode == 0 ? null : "Skipped: `node --version` failed.";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "Skipped: node is not on the PATH.";
        }
    }
}

/// <summary>A theory that is skipped, saying why, when node or the oracle's node_modules are absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OracleTheoryAttribute : TheoryAttribute
{
    public OracleTheoryAttribute()
    {
        if (JinjaOracle.Unavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
