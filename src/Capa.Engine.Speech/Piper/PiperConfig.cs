using System.Text.Json;

namespace Capa.Engine.Speech.Piper;

/// <summary>A Piper voice's <c>MODEL.onnx.json</c>: sample rate, espeak-ng voice, inference scales, phoneme ids, speakers.</summary>
public sealed record PiperConfig
{
    /// <summary>Output sample rate.</summary>
    public required int SampleRate { get; init; }

    /// <summary>espeak-ng's language for the phonemes.</summary>
    public required string EspeakVoice { get; init; }

    /// <summary>Noise scale (the first of <c>scales</c>).</summary>
    public float NoiseScale { get; init; } = 0.667f;

    /// <summary>Length scale at normal speed (the second of <c>scales</c>); larger is slower.</summary>
    public float LengthScale { get; init; } = 1f;

    /// <summary>Noise width (the third of <c>scales</c>).</summary>
    public float NoiseW { get; init; } = 0.8f;

    /// <summary>Phoneme (one code point, as text) to its ids.</summary>
    public required IReadOnlyDictionary<string, long[]> PhonemeIdMap { get; init; }

    /// <summary>Phoneme replacements applied before the ids (<c>phoneme_map</c>).</summary>
    public IReadOnlyDictionary<string, string[]> PhonemeMap { get; init; } = new Dictionary<string, string[]>();

    /// <summary>Number of speakers (more than one needs <c>sid</c>).</summary>
    public int SpeakerCount { get; init; } = 1;

    /// <summary>Speaker names to ids.</summary>
    public IReadOnlyDictionary<string, long> SpeakerIds { get; init; } = new Dictionary<string, long>();

    /// <summary>Reads a config file.</summary>
    /// <exception cref="VoiceFolderException">The file is unreadable or lacks the sections Piper needs.</exception>
    public static PiperConfig Load(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            var sampleRate = root.GetProperty("audio").GetProperty("sample_rate").GetInt32();
            var voice = root.TryGetProperty("espeak", out var espeak) && espeak.TryGetProperty("voice", out var v) ? v.GetString()! : "en-us";
            var ids = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var entry in root.GetProperty("phoneme_id_map").EnumerateObject())
            {
                ids[entry.Name] = [.. entry.Value.EnumerateArray().Select(e => e.GetInt64())];
            }

            var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
            if (root.TryGetProperty("phoneme_map", out var phonemeMap) && phonemeMap.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in phonemeMap.EnumerateObject())
                {
                    map[entry.Name] = [.. entry.Value.EnumerateArray().Select(e => e.GetString() ?? "")];
                }
            }

            var speakers = new Dictionary<string, long>(StringComparer.Ordinal);
            if (root.TryGetProperty("speaker_id_map", out var speakerMap) && speakerMap.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in speakerMap.EnumerateObject())
                {
                    speakers[entry.Name] = entry.Value.GetInt64();
                }
            }

            var config = new PiperConfig
            {
                SampleRate = sampleRate,
                EspeakVoice = voice,
                PhonemeIdMap = ids,
                PhonemeMap = map,
                SpeakerCount = root.TryGetProperty("num_speakers", out var n) ? n.GetInt32() : 1,
                SpeakerIds = speakers,
            };
            if (root.TryGetProperty("inference", out var inference))
            {
                config = config with
                {
                    NoiseScale = inference.TryGetProperty("noise_scale", out var ns) ? ns.GetSingle() : config.NoiseScale,
                    LengthScale = inference.TryGetProperty("length_scale", out var ls) ? ls.GetSingle() : config.LengthScale,
                    NoiseW = inference.TryGetProperty("noise_w", out var nw) ? nw.GetSingle() : config.NoiseW,
                };
            }

            foreach (var required in new[] { "^", "$", "_" })
            {
                if (!ids.ContainsKey(required))
                {
                    throw new VoiceFolderException($"'{path}' has no id for '{required}' in phoneme_id_map.");
                }
            }

            return config;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new VoiceFolderException($"'{path}' is not a Piper voice config: {ex.Message}", ex);
        }
    }
}
