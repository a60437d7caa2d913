using System.Text.Json;
using Capa.TestModels.Tests;

namespace Capa.Engine.Speech.Tests;

/// <summary>Runs tests/oracle/kokoro.mjs (kokoro-js from npm) with node.</summary>
internal static class KokoroOracle
{
    public static string? Directory { get; } = Oracle.HasPackage("kokoro-js") ? Oracle.Root : null;

    /// <summary>Why the oracle cannot run, or null.</summary>
    public static string? UnavailableReason { get; } = Directory is null
        ? "tests/oracle/node_modules/kokoro-js is not installed (run npm ci in tests/oracle)"
        : Oracle.Node is null ? "node is not on PATH" : null;

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
            List<string> arguments = ["--model", model, "--texts", textsFile, "--voice", voice, "--speed", speed.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            if (audioDirectory is not null)
            {
                arguments.AddRange(["--audio-dir", audioDirectory]);
            }

            string printed = Oracle.RunScriptText("kokoro.mjs", Oracle.DefaultTimeout, arguments);
            var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
            return [.. printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonSerializer.Deserialize<Sentence>(line, options)!)];
        }
        finally
        {
            File.Delete(textsFile);
        }
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
