using System.Diagnostics;
using System.Text.Json;

namespace Capa.TestModels.Tests;

/// <summary>
/// Runs the node scripts of tests/oracle (transformers.js, kokoro-js) for every test project that compares Capa with
/// them: one way to find node and the folder, start the script without a shell, bound its time and report its stderr.
/// </summary>
internal static class Oracle
{
    /// <summary>How long a script may run before it is killed: generous, because test runs share a small machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(180);

    /// <summary>tests/oracle in this checkout, installed or not; null outside a checkout.</summary>
    public static string? Root { get; } = FindOracleRoot();

    /// <summary>tests/oracle when @huggingface/transformers is installed there, else null.</summary>
    public static string? Directory { get; } = Root is not null && HasPackage("@huggingface/transformers") ? Root : null;

    /// <summary>node on PATH, or null.</summary>
    public static string? Node { get; } = FindNode();

    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/@huggingface/transformers is not installed (run npm ci in tests/oracle)"
        : Node is null ? "node is not on PATH" : null;

    /// <summary>Whether the npm package <paramref name="name"/> is installed in tests/oracle.</summary>
    public static bool HasPackage(string name) =>
        Root is not null && File.Exists(Path.Combine(Root, "node_modules", name, "package.json"));

    public static JsonDocument Run(params string[] arguments) => RunScript("generate.mjs", arguments);

    /// <summary>Runs another script of tests/oracle and parses the JSON it prints.</summary>
    public static JsonDocument RunScript(string script, params string[] arguments) =>
        JsonDocument.Parse(RunScriptText(script, DefaultTimeout, arguments));

    /// <summary>Runs a script of tests/oracle and returns what it printed; fails the test when it fails or overruns.</summary>
    public static string RunScriptText(string script, TimeSpan timeout, IEnumerable<string> arguments)
    {
        using var process = Process.Start(StartInfo(script, arguments))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within {timeout.TotalSeconds:0} s.");
        }

        Assert.True(process.ExitCode == 0, $"{script} failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>
    /// Starts a long-running script of tests/oracle (a server a test talks to) with its standard streams redirected; the
    /// caller reads its first line of output and kills it when done.
    /// </summary>
    public static Process Start(string script, params string[] arguments)
    {
        var start = StartInfo(script, arguments);
        start.RedirectStandardInput = true;
        return Process.Start(start) ?? throw new InvalidOperationException($"{script} did not start.");
    }

    private static ProcessStartInfo StartInfo(string script, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Node ?? throw new InvalidOperationException("node is not on PATH"))
        {
            WorkingDirectory = Root ?? throw new InvalidOperationException("tests/oracle was not found"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static string? FindOracleRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                string oracle = Path.Combine(dir.FullName, "tests", "oracle");
                return System.IO.Directory.Exists(oracle) ? oracle : null;
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
