using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Capa.TestModels.Tests;

namespace Capa.Engine.Vision.Tests.Model;

/// <summary>Runs tests/oracle/vision.mjs (transformers.js' Idefics3ForConditionalGeneration) with node.</summary>
internal static class VisionOracle
{
    public static string? UnavailableReason => Oracle.UnavailableReason;

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
            using JsonDocument doc = Oracle.RunScript(
                "vision.mjs",
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
