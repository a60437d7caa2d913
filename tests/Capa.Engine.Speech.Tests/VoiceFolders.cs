using Capa.TestModels.Speech;
using Capa.Engine.Speech.Espeak;

namespace Capa.Engine.Speech.Tests;

/// <summary>Random-weight voice folders written once per test run, and the espeak-ng they speak with.</summary>
internal static class VoiceFolders
{
    private static readonly Lazy<string> KokoroFolder = new(() =>
    {
        var directory = Path.Combine(Path.GetTempPath(), "capa-test-kokoro-" + Environment.ProcessId);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        KokoroTestModelWriter.Write(new KokoroTestModelSpec { Seed = 7 }, directory);
        return directory;
    });

    private static readonly Lazy<string> PiperFolder = new(() => WritePiper(new PiperTestModelSpec { Seed = 3 }, "piper"));

    private static readonly Lazy<string> PiperMultiFolder = new(() => WritePiper(new PiperTestModelSpec { Seed = 3, Name = "en_US-test-multi", Speakers = 3, SampleRate = 16_000 }, "piper-multi"));

    private static readonly Lazy<Task<EspeakInstallation>> Espeak = new(() => EspeakInstallation.DetectAsync(EspeakOptions.Default, CancellationToken.None));

    public static string Kokoro => KokoroFolder.Value;

    public static string Piper => PiperFolder.Value;

    public static string PiperMulti => PiperMultiFolder.Value;

    public static Task<EspeakInstallation> EspeakAsync() => Espeak.Value;

    private static string WritePiper(PiperTestModelSpec spec, string name)
    {
        var directory = Path.Combine(Path.GetTempPath(), "capa-test-" + name + "-" + Environment.ProcessId);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        PiperTestModelWriter.Write(spec, directory);
        return directory;
    }
}
