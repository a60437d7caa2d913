using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Tokenizers.Tests.Oracle;

/// <summary>Runs tests/oracle/tokenize.mjs (@huggingface/transformers' AutoTokenizer) on a tokenizer folder.</summary>
internal static class TokenizerOracle
{
    public static string? MissingReason
    {
        get
        {
            if (!TestPaths.HasOracleModules)
            {
                return $"The npm oracle is not installed ({Path.Combine(TestPaths.OracleDir, "node_modules")} is missing; run `npm install` in tests/oracle).";
            }

            return FindNode() is null ? "node is not on PATH; the tokenizer oracle needs Node.js." : null;
        }
    }

    public static (int[][] Encoded, string[] Decoded) Run(string folder, IReadOnlyList<(string Text, bool AddSpecial)> encode, IReadOnlyList<(int[] Ids, bool SkipSpecial)> decode)
    {
        string requestPath = Path.GetTempFileName();
        string responsePath = Path.GetTempFileName();
        try
        {
            var request = new JsonObject
            {
                ["folder"] = folder,
                ["encode"] = new JsonArray([.. encode.Select(e => (JsonNode)new JsonObject { ["text"] = e.Text, ["add_special_tokens"] = e.AddSpecial })]),
                ["decode"] = new JsonArray([.. decode.Select(d => (JsonNode)new JsonObject { ["ids"] = new JsonArray([.. d.Ids.Select(i => (JsonNode)i)]), ["skip_special_tokens"] = d.SkipSpecial })]),
            };
            File.WriteAllText(requestPath, request.ToJsonString());

            var start = new ProcessStartInfo(FindNode()!)
            {
                WorkingDirectory = TestPaths.OracleDir,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(TestPaths.OracleDir, "tokenize.mjs"));
            start.ArgumentList.Add(requestPath);
            start.ArgumentList.Add(responsePath);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("The tokenizer oracle did not finish within two minutes.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"The tokenizer oracle failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
            }

            using var response = JsonDocument.Parse(File.ReadAllText(responsePath));
            int[][] encoded = [.. response.RootElement.GetProperty("encode").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray())];
            string[] decoded = [.. response.RootElement.GetProperty("decode").EnumerateArray().Select(s => s.GetString()!)];
            return (encoded, decoded);
        }
        finally
        {
            File.Delete(requestPath);
            File.Delete(responsePath);
        }
    }

    private static string? FindNode()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "node.exe" : "node");
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A fact that runs only where node and tests/oracle/node_modules are present.</summary>
public sealed class OracleFactAttribute : FactAttribute
{
    public OracleFactAttribute(bool needsQwen3 = false)
    {
        if (TokenizerOracle.MissingReason is { } reason)
        {
            Skip = reason;
        }
        else if (needsQwen3 && !TestPaths.HasQwen3)
        {
            Skip = $"Reference tokenizer files are absent ({TestPaths.Qwen3Dir}); they live beside the repository in ../shared/reference.";
        }
    }
}
