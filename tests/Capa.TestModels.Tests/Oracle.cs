using System.Diagnostics;
using System.Text.Json;

namespace Capa.TestModels.Tests;

/// <summary>Runs tests/oracle/generate.mjs with node.</summary>
internal static class Oracle
{
    public static string? Directory { get; } = FindOracleDirectory();

    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/@huggingface/transformers is not installed (run npm ci in tests/oracle)"
        : FindNode() is null ? "node is not on PATH" : null;

    public static JsonDocument Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(FindNode()!)
        {
            WorkingDirectory = Directory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("generate.mjs");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("generate.mjs did not finish within 120 s.");
        }

        Assert.True(process.ExitCode == 0, $"generate.mjs failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result);
    }

    private static string? FindOracleDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string oracle = Path.Combine(dir.FullName, "tests", "oracle");
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                return System.IO.Directory.Exists(Path.Combine(oracle, "node_modules", "@huggingface", "transformers")) ? oracle : null;
            }
        }

        return null;
    }

    private static string? FindNode()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string name in new[] { "node", "node.exe" })
            {
                string path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }
}
