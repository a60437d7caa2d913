using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Capa.TestModels.Tests;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

/// <summary>Runs tests/oracle/qwen2vl.mjs (transformers.js' Qwen2VLForConditionalGeneration) with node.</summary>
internal static class Qwen2VlOracle
{
    /// <summary>The oracle's answer: its prompt ids, its greedy new ids (an end token included), its pixel dims and grid.</summary>
    public sealed record Answer(int[] Prompt, int[] Generated, int[] PixelDims, int[] Grid);

    /// <summary>
    /// Greedy generation by transformers.js on <paramref name="rows"/> ([patches, 1176]): its processor builds the prompt
    /// for a blank <paramref name="width"/>×<paramref name="height"/> image, then its pixel values are replaced by these.
    /// </summary>
    public static Answer Generate(string model, float[] rows, int width, int height, string question, int maxNewTokens)
    {
        string file = Path.Combine(Path.GetTempPath(), "capa-qwen2vl-" + Guid.NewGuid().ToString("N") + ".f32");
        File.WriteAllBytes(file, MemoryMarshal.AsBytes(rows.AsSpan()).ToArray());
        try
        {
            using JsonDocument doc = Oracle.RunScript(
                "qwen2vl.mjs", "generate", "--model", model, "--pixels", file,
                "--width", width.ToString(CultureInfo.InvariantCulture), "--height", height.ToString(CultureInfo.InvariantCulture),
                "--question", question, "--max-new-tokens", maxNewTokens.ToString(CultureInfo.InvariantCulture));
            JsonElement root = doc.RootElement;
            static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];
            return new Answer(Ints(root.GetProperty("prompt")), Ints(root.GetProperty("generated")), Ints(root.GetProperty("pixel_dims")), Ints(root.GetProperty("grid")));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
