using System.Globalization;
using System.Text.Json;
using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>What <see cref="PiperTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record PiperTestModelSpec
{
    /// <summary>The graph's size (<see cref="VoiceTestSize.RealShapes"/>: a medium voice's layers and widths).</summary>
    public VoiceTestSize Size { get; init; } = VoiceTestSize.Tiny;

    /// <summary>Parses a size name: <c>tiny</c>, or <c>real-shapes</c> (also <c>medium</c>, <c>medium-real-shapes</c>).</summary>
    public static VoiceTestSize ParseSize(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => VoiceTestSize.Tiny,
        "real-shapes" or "medium" or "medium-real-shapes" => VoiceTestSize.RealShapes,
        _ => throw new ArgumentException($"Unknown Piper size '{value}'. Expected tiny or real-shapes (a medium voice's layers and widths).", nameof(value)),
    };

    /// <summary>The voice's name: the files are <c>NAME.onnx</c> and <c>NAME.onnx.json</c>.</summary>
    public string Name { get; init; } = "en_US-test-medium";

    /// <summary>espeak-ng's language for the phonemes (<c>en-us</c>, <c>cmn</c>, ...).</summary>
    public string EspeakVoice { get; init; } = "en-us";

    /// <summary>Output sample rate (22,050 Hz for medium and high voices, 16,000 for low).</summary>
    public int SampleRate { get; init; } = 22_050;

    /// <summary>Speakers; more than one adds the <c>sid</c> input and a <c>speaker_id_map</c>.</summary>
    public int Speakers { get; init; } = 1;

    /// <summary>Seed of the weights.</summary>
    public ulong Seed { get; init; }

    /// <summary>Width of the tiny graph's hidden layer.</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Samples per phoneme id at length scale 1 in the tiny graph (the real-shapes graph makes 3 × 256).</summary>
    public int SamplesPerSymbol { get; init; } = 512;
}

/// <summary>
/// Writes a random-weight Piper voice as rhasspy/piper-voices publishes them: <c>NAME.onnx</c> (inputs <c>input</c>,
/// <c>input_lengths</c>, <c>scales</c>, and <c>sid</c> for several speakers; output <c>output</c>) and
/// <c>NAME.onnx.json</c> with the audio, espeak, inference and <c>phoneme_id_map</c> sections of Piper's config.
/// </summary>
public static class PiperTestModelWriter
{
    /// <summary>Piper's espeak symbol table in id order: pad, bos, eos, space, punctuation, letters, IPA, digits, diacritics.</summary>
    public const string Symbols =
        "_^$ !'(),-.:;?abcdefghijklmnopqrstuvwxyzæçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢʲˈˌːˑ˞βθχᵻⱱ0123456789\u0327\u0303\u032a\u032f\u0329ʰˤε↓#\"↑\u033a\u033b˥˦˧˨˩";

    /// <summary>Writes the voice into <paramref name="directory"/>.</summary>
    public static TestModelResult Write(PiperTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        var symbols = Symbols.EnumerateRunes().Select(r => r.ToString()).ToArray();
        var (graph, _) = spec.Size == VoiceTestSize.RealShapes
            ? PiperShapesGraph.Build(PiperShapes.Medium, symbols.Length, spec.Speakers, spec.Seed)
            : (VoiceGraphs.Piper(symbols.Length, spec.Hidden, spec.SamplesPerSymbol, spec.Speakers, spec.Seed), 0L);
        OnnxModelWriter.Write(graph, Path.Combine(directory, spec.Name + ".onnx"), new OnnxWriteOptions { ProducerName = "capa testmodel" });
        using (var stream = File.Create(Path.Combine(directory, spec.Name + ".onnx.json")))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("audio");
            w.WriteNumber("sample_rate", spec.SampleRate);
            w.WriteString("quality", spec.SampleRate >= 22_050 ? "medium" : "low");
            w.WriteEndObject();
            w.WriteStartObject("espeak");
            w.WriteString("voice", spec.EspeakVoice);
            w.WriteEndObject();
            w.WriteStartObject("inference");
            w.WriteNumber("noise_scale", 0.667);
            w.WriteNumber("length_scale", 1);
            w.WriteNumber("noise_w", 0.8);
            w.WriteEndObject();
            w.WriteString("phoneme_type", "espeak");
            w.WriteStartObject("phoneme_map");
            w.WriteEndObject();
            w.WriteStartObject("phoneme_id_map");
            for (var i = 0; i < symbols.Length; i++)
            {
                w.WriteStartArray(symbols[i]);
                w.WriteNumberValue(i);
                w.WriteEndArray();
            }

            w.WriteEndObject();
            w.WriteNumber("num_symbols", symbols.Length);
            w.WriteNumber("num_speakers", spec.Speakers);
            w.WriteStartObject("speaker_id_map");
            for (var i = 0; i < spec.Speakers && spec.Speakers > 1; i++)
            {
                w.WriteNumber("speaker_" + i.ToString(CultureInfo.InvariantCulture), i);
            }

            w.WriteEndObject();
            w.WriteString("piper_version", "1.0.0");
            w.WriteString("dataset", "capa-test");
            w.WriteEndObject();
        }

        string[] files = [spec.Name + ".onnx", spec.Name + ".onnx.json"];
        var total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, symbols.Length);
    }
}
