using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Capa.Engine.Vision.Tests.Model;

/// <summary>Runs tests/oracle/vision.mjs (transformers.js' Idefics3ForConditionalGeneration) with node.</summary>
internal static class VisionOracle
{
    public static string? Directory { get; } = FindOracleDirectory();

    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/@huggingface/transformers is not installed (run npm ci in tests/oracle)"
        : FindOnPath("node") is null ? "node is not on PATH" : null;

    /// <summary>The oracle's answer: its prompt ids, its greedy new ids (an end token included), and the tile grid it saw.</summary>
    public sealed record Answer(int[] Prompt, int[] Generated, int[] PixelDims, int Rows, int Cols);

    /// <summary>
    /// Greedy generation by transformers.js on <paramref name="pixels"/> ([tiles, 3, S, S]): its processor builds the
    /// prompt for a blank <paramref name="width"/>×<paramref name="height"/> image, then its pixel values are replaced by
    /// these (the same tensor Capa is given).
    /// </summary>
    public static Answer Generate(string model, float[] pixels, int width, int height, bool split, string question, int maxNewTokens)
    {
        string file = Path.Combine(Path.GetTempPath(), "capa-vision-" + Guid.NewGuid().ToString("N") + ".f32");
        File.WriteAllBytes(file, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        try
        {
            using JsonDocument doc = Run(
                "generate", "--model", model, "--pixels", file,
                "--width", width.ToString(CultureInfo.InvariantCulture), "--height", height.ToString(CultureInfo.InvariantCulture),
                "--split", split ? "true" : "false", "--question", question,
                "--max-new-tokens", maxNewTokens.ToString(CultureInfo.InvariantCulture));
            JsonElement root = doc.RootElement;
            static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
            return new Answer(Ints(root.GetProperty("prompt")), Ints(root.GetProperty("generated")), Ints(root.GetProperty("pixel_dims")),
                root.GetProperty("rows").GetInt32(), root.GetProperty("cols").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static JsonDocument Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(FindOnPath("node")!)
        {
            WorkingDirectory = Directory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("vision.mjs");
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
            throw new TimeoutException("vision.mjs did not finish within 180 s.");
        }

        Assert.True(process.ExitCode == 0, $"vision.mjs failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Result);
    }

    private static string? FindOnPath(string name)
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

/// <summary>A theory skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class VisionOracleTheoryAttribute : TheoryAttribute
{
    public VisionOracleTheoryAttribute()
    {
        if (VisionOracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}
