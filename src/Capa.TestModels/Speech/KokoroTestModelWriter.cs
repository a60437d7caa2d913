using System.Text;
using System.Text.Json;
using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>Sizes of a random-weight voice.</summary>
public enum VoiceTestSize
{
    /// <summary>A few hundred KB: a tiny graph with the real I/O contract, for tests.</summary>
    Tiny,

    /// <summary>The real model's layers and widths (Kokoro-82M; a Piper medium voice), for benchmarks.</summary>
    RealShapes,
}

/// <summary>What <see cref="KokoroTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record KokoroTestModelSpec
{
    /// <summary>The graph's size.</summary>
    public VoiceTestSize Size { get; init; } = VoiceTestSize.Tiny;

    /// <summary>Parses a size name: <c>tiny</c>, or <c>real-shapes</c> (also <c>82m-real-shapes</c>).</summary>
    public static VoiceTestSize ParseSize(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => VoiceTestSize.Tiny,
        "real-shapes" or "82m-real-shapes" => VoiceTestSize.RealShapes,
        _ => throw new ArgumentException($"Unknown Kokoro size '{value}'. Expected tiny or real-shapes (Kokoro-82M's layers and widths).", nameof(value)),
    };

    /// <summary>Seed of the weights and the voice tables.</summary>
    public ulong Seed { get; init; }

    /// <summary>Width of the tiny graph's hidden layer.</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Samples the tiny graph makes per phoneme at speed 1 (0.05 s at 24 kHz; the real-shapes graph makes 1,200 too).</summary>
    public int SamplesPerSymbol { get; init; } = 1200;

    /// <summary>The voices written to <c>voices/NAME.bin</c>.</summary>
    public IReadOnlyList<string> Voices { get; init; } = ["af_heart", "af_alloy", "af_bella", "af_nova", "am_echo", "am_onyx", "bf_emma", "bm_fable"];
}

/// <summary>
/// Writes a random-weight Kokoro folder laid out as onnx-community/Kokoro-82M-v1.0-ONNX: <c>onnx/model.onnx</c>
/// (inputs <c>input_ids</c>, <c>style</c>, <c>speed</c>; output <c>waveform</c> at 24 kHz), <c>voices/*.bin</c> style
/// tables (float32 [510, 1, 256]), Kokoro's phoneme <c>tokenizer.json</c> (word-level over single symbols, pad
/// <c>$</c> at both ends), <c>tokenizer_config.json</c> and <c>config.json</c>: kokoro-js loads and runs it as it
/// runs the real model.
/// </summary>
public static class KokoroTestModelWriter
{
    /// <summary>Rows of a voice table: one style per phoneme count.</summary>
    public const int StyleRows = 510;

    /// <summary>Width of a style vector.</summary>
    public const int StyleSize = 256;

    /// <summary>Kokoro's symbol vocabulary (id → symbol), as its config lists it; ids not listed are unused.</summary>
    public static IReadOnlyDictionary<string, int> Vocabulary { get; } = BuildVocabulary();

    /// <summary>Writes the folder described by <paramref name="spec"/> into <paramref name="directory"/>.</summary>
    public static TestModelResult Write(KokoroTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        Directory.CreateDirectory(Path.Combine(directory, "voices"));
        var files = new List<string>();
        var vocabSize = Vocabulary.Values.Max() + 1;
        var (graph, _) = spec.Size == VoiceTestSize.RealShapes
            ? KokoroShapesGraph.Build(KokoroShapes.Real, vocabSize, StyleSize, spec.Seed)
            : (VoiceGraphs.Kokoro(vocabSize, spec.Hidden, spec.SamplesPerSymbol, StyleSize, spec.Seed), 0L);
        OnnxModelWriter.Write(graph, Path.Combine(directory, "onnx", "model.onnx"), new OnnxWriteOptions { ProducerName = "capa testmodel" });
        files.Add("onnx/model.onnx");
        foreach (var voice in spec.Voices)
        {
            var table = WeightGenerator.NormalBytes(spec.Seed, "voices/" + voice, (long)StyleRows * StyleSize, 0f, 0.3f);
            File.WriteAllBytes(Path.Combine(directory, "voices", voice + ".bin"), table);
            files.Add("voices/" + voice + ".bin");
        }

        WriteFile(directory, "tokenizer.json", TokenizerJson(), files);
        WriteFile(directory, "tokenizer_config.json", Json(w =>
        {
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteNumber("model_max_length", 512);
            w.WriteString("pad_token", "$");
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        }), files);
        WriteFile(directory, "config.json", Json(w =>
        {
            w.WriteString("model_type", "style_text_to_speech_2");
            w.WriteNumber("hidden_dim", spec.Size == VoiceTestSize.RealShapes ? KokoroShapes.Real.Hidden : spec.Hidden);
            w.WriteNumber("style_dim", StyleSize);
            w.WriteNumber("n_token", vocabSize);
            w.WriteNumber("sampling_rate", 24_000);
        }), files);
        var total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, Vocabulary.Count);
    }

    /// <summary>Kokoro's <c>tokenizer.json</c>: normalizer deleting unknown symbols, one token per character, <c>$ A $</c>.</summary>
    public static byte[] TokenizerJson()
    {
        var keep = new StringBuilder("[^$");
        foreach (var symbol in Vocabulary.Keys)
        {
            keep.Append(symbol is "\\" or "]" or "[" or "^" or "-" ? "\\" + symbol : symbol);
        }

        keep.Append(']');
        return Json(w =>
        {
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            w.WriteStartObject();
            w.WriteNumber("id", 0);
            w.WriteString("content", "$");
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("normalizer");
            w.WriteString("type", "Replace");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", keep.ToString());
            w.WriteEndObject();
            w.WriteString("content", "");
            w.WriteEndObject();
            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", "");
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            w.WriteStartObject("post_processor");
            w.WriteString("type", "TemplateProcessing");
            w.WriteStartArray("single");
            Special(w);
            w.WriteStartObject();
            w.WriteStartObject("Sequence");
            w.WriteString("id", "A");
            w.WriteNumber("type_id", 0);
            w.WriteEndObject();
            w.WriteEndObject();
            Special(w);
            w.WriteEndArray();
            w.WriteStartArray("pair");
            Special(w);
            w.WriteEndArray();
            w.WriteStartObject("special_tokens");
            w.WriteStartObject("$");
            w.WriteString("id", "$");
            w.WriteStartArray("ids");
            w.WriteNumberValue(0);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue("$");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteNull("decoder");
            w.WriteStartObject("model");
            w.WriteString("type", "WordLevel");
            w.WriteStartObject("vocab");
            w.WriteNumber("$", 0);
            foreach (var (symbol, id) in Vocabulary)
            {
                w.WriteNumber(symbol, id);
            }

            w.WriteEndObject();
            w.WriteString("unk_token", "$");
            w.WriteEndObject();
        });

        static void Special(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteStartObject("SpecialToken");
            w.WriteString("id", "$");
            w.WriteNumber("type_id", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    private static Dictionary<string, int> BuildVocabulary()
    {
        // Kokoro-82M v1.0's symbols and ids (config.json "vocab").
        (string Symbols, int[] Ids)[] groups =
        [
            (";:,.!?", [1, 2, 3, 4, 5, 6]),
            ("—…\"()“” \u0303ʣʥʦʨᵝ\uAB67", [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]),
            ("AI", [24, 25]), ("O", [31]), ("Q", [33]), ("ST", [35, 36]), ("W", [39]), ("Y", [41]), ("ᵊ", [42]),
            ("abcdef", [43, 44, 45, 46, 47, 48]), ("hijklmnopqrstuvwxyz", [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68]),
            ("ɑɐɒæ", [69, 70, 71, 72]), ("βɔɕç", [75, 76, 77, 78]), ("ɖðʤə", [80, 81, 82, 83]), ("ɚɛɜ", [85, 86, 87]), ("ɟ", [90]), ("ɡ", [92]),
            ("ɥ", [99]), ("ɨɪʝ", [101, 102, 103]), ("ɯɰŋɳɲɴø", [110, 111, 112, 113, 114, 115, 116]), ("ɸθœ", [118, 119, 120]), ("ɹ", [123]),
            ("ɾɻ", [125, 126]), ("ʁɽʂʃʈʧ", [128, 129, 130, 131, 132, 133]), ("ʊʋ", [135, 136]), ("ʌɣɤ", [138, 139, 140]), ("χʎ", [142, 143]),
            ("ʒʔ", [147, 148]), ("ˈˌː", [156, 157, 158]), ("ʰ", [162]), ("ʲ", [164]), ("↓", [169]), ("→↗↘", [171, 172, 173]), ("ᵻ", [177]),
        ];
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (symbols, ids) in groups)
        {
            if (symbols.Length != ids.Length)
            {
                throw new InvalidOperationException($"Vocabulary group '{symbols}' has {symbols.Length} symbols for {ids.Length} ids.");
            }

            for (var i = 0; i < symbols.Length; i++)
            {
                vocab.Add(symbols[i].ToString(), ids[i]);
            }
        }

        return vocab;
    }

    private static void WriteFile(string directory, string name, byte[] bytes, List<string> files)
    {
        File.WriteAllBytes(Path.Combine(directory, name), bytes);
        files.Add(name);
    }

    private static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
