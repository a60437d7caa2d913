using System.Runtime.InteropServices;
using System.Text.Json;
using Capa.TestModels.Tests;

namespace Capa.Engine.Whisper.Tests;

/// <summary>Runs tests/oracle/whisper.mjs (transformers.js) with node.</summary>
internal static class WhisperOracle
{
    public static string? UnavailableReason => Oracle.UnavailableReason;

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

    public static JsonDocument Run(params string[] arguments) => Oracle.RunScript("whisper.mjs", arguments);
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
