using System.Diagnostics.CodeAnalysis;
using Capa.Engine.Speech.Espeak;
using Capa.Engine.Speech.Kokoro;
using Capa.Engine.Speech.Piper;

namespace Capa.Engine.Speech;

/// <summary>A neural voice model the library loaded: its id (the store's <c>ORG/NAME</c>), engine and voice ids.</summary>
public sealed record VoiceModel(string Id, string Engine, IReadOnlyList<string> VoiceIds);

/// <summary>
/// The neural voices installed: Kokoro folders (every <c>voices/*.bin</c> a voice) and Piper voices (every
/// <c>NAME.onnx</c> with its <c>NAME.onnx.json</c>, every speaker of a multi-speaker one). A voice is named by its own
/// id (<c>af_heart</c>, <c>en_US-lessac-medium</c>, <c>en_US-libritts-high:p123</c>) or qualified by its model
/// (<c>onnx-community/Kokoro-82M-v1.0-ONNX:af_heart</c>) when two models share a name. OpenAI's voice names map to
/// Kokoro voices by <see cref="KokoroVoiceMap"/>, and to Piper voices in turn.
/// </summary>
public sealed class VoiceLibrary : IDisposable
{
    /// <summary>OpenAI's voice names and the Kokoro-82M voices that stand in for them (same gender, similar register).</summary>
    public static IReadOnlyDictionary<string, string> KokoroVoiceMap { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["alloy"] = "af_alloy",
        ["ash"] = "am_adam",
        ["ballad"] = "bm_george",
        ["coral"] = "af_heart",
        ["echo"] = "am_echo",
        ["fable"] = "bm_fable",
        ["onyx"] = "am_onyx",
        ["nova"] = "af_nova",
        ["sage"] = "af_sarah",
        ["shimmer"] = "af_bella",
        ["verse"] = "am_michael",
        ["marin"] = "af_kore",
        ["cedar"] = "am_puck",
    };

    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<string, Func<ISpeechVoice>> _voices = new(StringComparer.Ordinal);
    private readonly List<VoiceModel> _models = [];

    private VoiceLibrary()
    {
    }

    /// <summary>The models loaded, in the order given.</summary>
    public IReadOnlyList<VoiceModel> Models => _models;

    /// <summary>An empty library (espeak-ng only).</summary>
    public static VoiceLibrary Empty { get; } = new();

    /// <summary>
    /// Loads the neural voice models among <paramref name="folders"/>; a folder that is neither Kokoro nor Piper is
    /// skipped, one that fails to load is reported through <paramref name="warn"/> and skipped.
    /// </summary>
    public static VoiceLibrary Load(IEnumerable<(string Id, string Directory)> folders, EspeakInstallation espeak, int intraOpThreads, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(folders);
        ArgumentNullException.ThrowIfNull(espeak);
        ArgumentNullException.ThrowIfNull(warn);
        var library = new VoiceLibrary();
        var phonemes = new EspeakPhonemizer(espeak);
        var kokoroPhonemizer = new KokoroPhonemizer(phonemes);
        var piperPhonemizer = new PiperPhonemizer(phonemes);
        foreach (var (id, directory) in folders)
        {
            try
            {
                if (KokoroModel.IsKokoroFolder(directory))
                {
                    var model = KokoroModel.Load(directory, intraOpThreads);
                    library._owned.Add(model);
                    var ids = new List<string>();
                    foreach (var name in model.Voices)
                    {
                        ids.Add(name);
                        var voiceName = name;
                        library.Add(name, id + ":" + name, voiceId => new KokoroVoice(model, voiceName, kokoroPhonemizer, espeak.Version, voiceId));
                    }

                    library._models.Add(new VoiceModel(id, "kokoro", ids));
                    continue;
                }

                var piperIds = new List<string>();
                foreach (var path in PiperModel.Find(directory))
                {
                    var model = PiperModel.Load(path, intraOpThreads);
                    library._owned.Add(model);
                    if (!phonemes.HasLanguage(model.Config.EspeakVoice))
                    {
                        warn($"the Piper voice '{path}' reads '{model.Config.EspeakVoice}', which espeak-ng does not speak: it is skipped.");
                        continue;
                    }

                    var speakers = model.Config.SpeakerCount > 1 && model.Config.SpeakerIds.Count > 0
                        ? model.Config.SpeakerIds.OrderBy(s => s.Value).Select(s => (string?)s.Key).ToList()
                        : [null];
                    foreach (var speaker in speakers)
                    {
                        var voiceId = speaker is null ? model.Name : model.Name + ":" + speaker;
                        piperIds.Add(voiceId);
                        library.Add(voiceId, id + ":" + voiceId, v => new PiperVoice(model, piperPhonemizer, espeak.Version, speaker, v));
                    }
                }

                if (piperIds.Count > 0)
                {
                    library._models.Add(new VoiceModel(id, "piper", piperIds));
                }
            }
            catch (VoiceFolderException ex)
            {
                warn($"the voice model '{id}' cannot be loaded: {ex.Message}");
            }
        }

        return library;
    }

    /// <summary>The voice named <paramref name="id"/> (its own id, or qualified by its model).</summary>
    public bool TryGetVoice(string id, [NotNullWhen(true)] out ISpeechVoice? voice)
    {
        ArgumentNullException.ThrowIfNull(id);
        voice = _voices.TryGetValue(id, out var create) ? create() : null;
        return voice is not null;
    }

    /// <summary>
    /// The voice of <paramref name="model"/> that stands in for an OpenAI voice name: its Kokoro counterpart
    /// (<see cref="KokoroVoiceMap"/>) where the model has it, else the model's voices taken in turn by the name's
    /// place among OpenAI's names.
    /// </summary>
    public static string StandIn(VoiceModel model, string openAiName)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(openAiName);
        if (KokoroVoiceMap.TryGetValue(openAiName, out var kokoro) && model.VoiceIds.Contains(kokoro, StringComparer.Ordinal))
        {
            return kokoro;
        }

        var place = KokoroVoiceMap.Keys.ToList().IndexOf(openAiName);
        return model.VoiceIds[Math.Max(place, 0) % model.VoiceIds.Count];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    private void Add(string id, string qualified, Func<string, ISpeechVoice> create)
    {
        _voices.TryAdd(id, () => create(id));
        _voices.TryAdd(qualified, () => create(qualified));
    }
}
