using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Capa.Engine.Whisper.Tests;

/// <summary>Runs tests/oracle/whisper.mjs (transformers.js) with node.</summary>
internal static class WhisperOracle
{
    public static string? Directory { get; } = FindOracleDirectory();

    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/@huggingface/transformers is not installed (run npm ci in tests/oracle)"
        : FindOnPath("node") is null ? "node is not on PATH" : null;

    /// <summary>Writes raw float32 samples to a temporary file the oracle reads.</summary>
    public static string WriteAudio(ReadOnlySpan<float> samples)
    {
        string path = Path.Combine(Path.GetTempPath(), "capa-whisper-" + Guid.NewGuid().ToString("N") + ".f32");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(samples).ToArray());
        return path;
    }

    public static float[] Features(ReadOnlySpan<float> samples, int mels)
    {
        string audio = WriteAudio(samples);
        string output = audio + ".features";
        try
        {
            Run("features", "--audio", audio, "--out", output, "--mels", mels.ToString(System.Globalization.CultureInfo.InvariantCulture)).Dispose();
            return MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
        }
        finally
        {
            File.Delete(audio);
            File.Delete(output);
        }
    }

    public static JsonDocument Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(FindOnPath("node")!)
        {
            WorkingDirectory = Directory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("whisper.mjs");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(180)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("whisper.mjs did not finish within 180 s.");
        }

        Assert.True(process.ExitCode == 0, $"whisper.mjs failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result);
    }

    public static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
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
}

/// <summary>A fact skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class WhisperOracleFactAttribute : FactAttribute
{
    public WhisperOracleFactAttribute()
    {
        if (WhisperOracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}

/// <summary>A theory skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class WhisperOracleTheoryAttribute : TheoryAttribute
{
    public WhisperOracleTheoryAttribute()
    {
        if (WhisperOracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}
