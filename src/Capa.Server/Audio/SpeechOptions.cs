using Capa.Engine.Speech;
using Capa.Engine.Speech.Espeak;
using Capa.Media.Codecs;
using Capa.Server.Configuration;

namespace Capa.Server.Audio;

/// <summary>Settings of <c>/v1/audio/speech</c>.</summary>
public sealed record SpeechOptions
{
    /// <summary>
    /// OpenAI's voice names mapped to local voice ids. By default every name is espeak-ng choosing its language from
    /// the text, each with its own variant (pitch and timbre).
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultVoiceMap { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["alloy"] = "espeak-ng/+f3",
        ["ash"] = "espeak-ng/+m3",
        ["ballad"] = "espeak-ng/+m2",
        ["coral"] = "espeak-ng/+f4",
        ["echo"] = "espeak-ng/+m1",
        ["fable"] = "espeak-ng/+m4",
        ["onyx"] = "espeak-ng/+m7",
        ["nova"] = "espeak-ng/+f2",
        ["sage"] = "espeak-ng/+f1",
        ["shimmer"] = "espeak-ng/+f5",
        ["verse"] = "espeak-ng/+m5",
        ["marin"] = "espeak-ng/+m6",
        ["cedar"] = "espeak-ng/+m8",
    };

    /// <summary>The model ids the local voices answer to: OpenAI's speech models and <c>espeak-ng</c>.</summary>
    public static IReadOnlyList<string> DefaultModels { get; } = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", EspeakVoice.AutoId];

    /// <summary>How espeak-ng is run.</summary>
    public EspeakOptions Espeak { get; init; } = EspeakOptions.Default;

    /// <summary>How ffmpeg is run (mp3, opus, aac, flac); a spare ffmpeg per format is kept ready by default.</summary>
    public FfmpegOptions Ffmpeg { get; init; } = FfmpegOptions.Default with { KeepSpare = true };

    /// <summary>
    /// OpenAI voice name → espeak-ng voice id, used when no neural voice model is installed; names left out keep their
    /// default.
    /// </summary>
    public IReadOnlyDictionary<string, string> VoiceMap { get; init; } = DefaultVoiceMap;

    /// <summary>
    /// Voice names the configuration maps explicitly (to any local voice: espeak-ng, Kokoro or Piper); they win over
    /// the neural defaults (<see cref="VoiceLibrary.KokoroVoiceMap"/>).
    /// </summary>
    public IReadOnlyDictionary<string, string> VoiceOverrides { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The model store whose Kokoro and Piper models are loaded at start; null loads none.</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>More folders holding a Kokoro model or Piper voices, served under their folder's name.</summary>
    public IReadOnlyList<string> VoiceDirectories { get; init; } = [];

    /// <summary>Threads ONNX Runtime uses per neural voice run.</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Model ids served by the local voices.</summary>
    public IReadOnlyList<string> Models { get; init; } = DefaultModels;

    /// <summary>
    /// The options with the config file's <c>speech</c> object applied (voices merged over the defaults), loading the
    /// neural voices of <paramref name="modelsDirectory"/>.
    /// </summary>
    public static SpeechOptions From(SpeechConfig? config, string? modelsDirectory = null)
    {
        var options = new SpeechOptions { ModelsDirectory = modelsDirectory };
        if (config is null)
        {
            return options;
        }

        var voices = new Dictionary<string, string>(DefaultVoiceMap, StringComparer.Ordinal);
        foreach (var (name, voice) in config.Voices ?? new Dictionary<string, string>())
        {
            voices[name] = voice;
        }

        return options with
        {
            VoiceMap = voices,
            VoiceOverrides = new Dictionary<string, string>(config.Voices ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            VoiceDirectories = config.VoiceModels ?? [],
            Espeak = options.Espeak with
            {
                Executable = config.EspeakNg ?? options.Espeak.Executable,
                DefaultLanguage = config.Language ?? options.Espeak.DefaultLanguage,
            },
            Ffmpeg = options.Ffmpeg with { Executable = config.Ffmpeg ?? options.Ffmpeg.Executable },
        };
    }
}
