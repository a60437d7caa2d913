using System.Diagnostics;
using System.Text.Json;

namespace Capa.Engine.Speech.Tests;

/// <summary>Runs tests/oracle/kokoro.mjs (kokoro-js from npm) with node.</summary>
internal static class KokoroOracle
{
    public static string? Directory { get; } = FindOracleDirectory();

    public static string? Node { get; } = FindNode();

    /// <summary>Why the oracle cannot run, or null.</summary>
    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/kokoro-js is not installed (run npm ci in tests/oracle)"
        : Node is null ? "node is not on PATH" : null;

    /// <summary>The path of kokoro-js's own table for <paramref name="voice"/> (the oracle reads voices from there).</summary>
    public static string VoiceTable(string voice) => Path.Combine(Directory!, "node_modules", "kokoro-js", "voices", voice + ".bin");

    public sealed record Sentence(int Index, string Text, string Phonemes, long[] Ids);

    /// <summary>Runs kokoro-js over <paramref name="texts"/>; with <paramref name="audioDirectory"/>, it writes the waveforms there.</summary>
    public static IReadOnlyList<Sentence> Run(string model, IReadOnlyList<string> texts, string voice = "af_heart", double speed = 1, string? audioDirectory = null)
    {
        var textsFile = Path.Combine(Path.GetTempPath(), "capa-kokoro-texts-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(textsFile, JsonSerializer.Serialize(texts));
        try
        {
            var start = new ProcessStartInfo(Node!)
            {
                WorkingDirectory = Directory!,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            string[] arguments = ["kokoro.mjs", "--model", model, "--texts", textsFile, "--voice", voice, "--speed", speed.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            if (audioDirectory is not null)
            {
                start.ArgumentList.Add("--audio-dir");
                start.ArgumentList.Add(audioDirectory);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("kokoro.mjs did not finish within 120 s.");
            }

            Assert.True(process.ExitCode == 0, $"kokoro.mjs failed ({process.ExitCode}): {stderr.Result}");
            var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
            return [.. stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<Sentence>(line, options)!)];
        }
        finally
        {
            File.Delete(textsFile);
        }
    }

    private static string? FindOracleDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                var oracle = Path.Combine(dir.FullName, "tests", "oracle");
                return File.Exists(Path.Combine(oracle, "node_modules", "kokoro-js", "package.json")) ? oracle : null;
            }
        }

        return null;
    }

    private static string? FindNode()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, "node");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}

/// <summary>A test that needs espeak-ng and the kokoro-js oracle; skipped with the reason where either is missing.</summary>
internal sealed class RequiresKokoroOracleFactAttribute : FactAttribute
{
    public RequiresKokoroOracleFactAttribute()
    {
        if (KokoroOracle.UnavailableReason is { } reason)
        {
            Skip = reason;
        }
        else if (!Capa.Media.Processes.ExecutableLocator.TryFind("espeak-ng", out _))
        {
            Skip = "espeak-ng is not installed";
        }
    }
}
