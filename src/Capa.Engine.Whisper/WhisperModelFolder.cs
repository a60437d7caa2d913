using System.Text.Json;
using Capa.Models;
using Capa.Models.Config;
using Capa.Tokenizers;

namespace Capa.Engine.Whisper;

/// <summary>The decoder files a Whisper folder provides.</summary>
public enum WhisperDecoderLayout
{
    /// <summary><c>decoder_model_merged*.onnx</c>: one graph with <c>use_cache_branch</c>.</summary>
    Merged,

    /// <summary>The older pair <c>decoder_model*.onnx</c> (first step) and <c>decoder_with_past_model*.onnx</c> (later steps).</summary>
    Split,
}

/// <summary>
/// A Whisper model folder as onnx-community and Xenova publish them: <c>onnx/encoder_model*.onnx</c>, a merged decoder
/// (or the older decoder / decoder-with-past pair), <c>config.json</c>, <c>generation_config.json</c>,
/// <c>preprocessor_config.json</c> (optional) and a tokenizer. Variants are chosen by file suffix.
/// </summary>
public sealed class WhisperModelFolder
{
    private static readonly (ModelVariant Variant, string[] Suffixes)[] VariantSuffixes =
    [
        (ModelVariant.Fp32, [""]),
        (ModelVariant.Int8, ["_int8", "_quantized"]),
        (ModelVariant.Q4, ["_q4"]),
    ];

    private WhisperModelFolder(string directory)
    {
        Directory = directory;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The encoder graph.</summary>
    public string EncoderPath { get; private init; } = "";

    /// <summary>The merged decoder, or the first-step decoder of the split layout.</summary>
    public string DecoderPath { get; private init; } = "";

    /// <summary>The split layout's decoder with past; <see langword="null"/> for a merged decoder.</summary>
    public string? DecoderWithPastPath { get; private init; }

    /// <summary>Which decoder files the folder has.</summary>
    public WhisperDecoderLayout Layout => DecoderWithPastPath is null ? WhisperDecoderLayout.Merged : WhisperDecoderLayout.Split;

    /// <summary>The weight format of the files chosen.</summary>
    public ModelVariant Variant { get; private init; }

    /// <summary>Mel bins per frame (config.json <c>num_mel_bins</c>: 80, or 128 for large-v3).</summary>
    public int MelBins { get; private init; }

    /// <summary>Mel filters from preprocessor_config.json, row-major [mel bins, 201], when the folder ships them.</summary>
    public float[]? MelFilters { get; private init; }

    /// <summary>Decoder layers (each has a self- and a cross-attention cache).</summary>
    public int DecoderLayers { get; private init; }

    /// <summary>Decoder attention heads.</summary>
    public int DecoderHeads { get; private init; }

    /// <summary>Model width.</summary>
    public int DModel { get; private init; }

    /// <summary>Encoder output positions (1500).</summary>
    public int AudioContext { get; private init; }

    /// <summary>Decoder context (448).</summary>
    public int TextContext { get; private init; }

    /// <summary>Rows of the output projection.</summary>
    public int VocabSize { get; private init; }

    /// <summary>The tokenizer.</summary>
    public HfTokenizer Tokenizer { get; private init; } = null!;

    /// <summary>Special token ids and decoding settings from the configs and tokenizer.</summary>
    public WhisperTokens Tokens { get; private init; } = null!;

    /// <summary>
    /// Loads <paramref name="directory"/>, choosing <paramref name="variant"/> or, when null, the first of fp32, int8, q4
    /// that has both an encoder and a decoder.
    /// </summary>
    /// <exception cref="ModelFolderException">A file is missing or malformed; the message says which and what to do.</exception>
    public static WhisperModelFolder Load(string directory, ModelVariant? variant = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelFolderException($"The model folder '{directory}' does not exist.");
        }

        string onnx = Path.Combine(directory, "onnx");
        (ModelVariant Variant, string Encoder, string Decoder, string? WithPast)? chosen = null;
        var seen = new List<string>();
        foreach (var (candidate, suffixes) in VariantSuffixes)
        {
            if (variant is { } wanted && wanted != candidate)
            {
                continue;
            }

            foreach (string suffix in suffixes)
            {
                string encoder = Path.Combine(onnx, "encoder_model" + suffix + ".onnx");
                string merged = Path.Combine(onnx, "decoder_model_merged" + suffix + ".onnx");
                string first = Path.Combine(onnx, "decoder_model" + suffix + ".onnx");
                string withPast = Path.Combine(onnx, "decoder_with_past_model" + suffix + ".onnx");
                if (!File.Exists(encoder))
                {
                    continue;
                }

                if (File.Exists(merged))
                {
                    chosen = (candidate, encoder, merged, null);
                }
                else if (File.Exists(first) && File.Exists(withPast))
                {
                    chosen = (candidate, encoder, first, withPast);
                }
                else
                {
                    seen.Add("encoder_model" + suffix + ".onnx without a decoder");
                    continue;
                }

                break;
            }

            if (chosen is not null)
            {
                break;
            }
        }

        if (chosen is not { } files)
        {
            string which = variant is { } v ? $"the {v.Name()} variant" : "an fp32, int8 or q4 variant";
            string found = System.IO.Directory.Exists(onnx)
                ? string.Join(", ", System.IO.Directory.EnumerateFiles(onnx, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal))
                : "no onnx/ folder";
            throw new ModelFolderException(
                $"'{directory}' is not a Whisper ONNX folder Capa can run: it needs {which} of onnx/encoder_model*.onnx with "
                + $"onnx/decoder_model_merged*.onnx (or decoder_model*.onnx with decoder_with_past_model*.onnx) beside it. Found: {(found.Length == 0 ? "none" : found)}"
                + (seen.Count > 0 ? $" ({string.Join("; ", seen)})." : "."));
        }

        using JsonDocument config = ReadJson(directory, "config.json", required: true)!;
        JsonElement c = config.RootElement;
        if (c.TryGetProperty("model_type", out JsonElement type) && type.GetString() is { } modelType && modelType != "whisper")
        {
            throw new ModelFolderException($"'{directory}' holds a {modelType} model, not Whisper (config.json model_type).");
        }

        using JsonDocument? generation = ReadJson(directory, "generation_config.json", required: true);
        using JsonDocument? preprocessor = ReadJson(directory, "preprocessor_config.json", required: false);
        HfTokenizer tokenizer;
        try
        {
            tokenizer = HfTokenizer.FromFolder(directory);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FormatException or NotSupportedException)
        {
            throw new ModelFolderException($"The tokenizer of '{directory}' cannot be loaded: {ex.Message}", ex);
        }

        int melBins = Int(c, "num_mel_bins", directory);
        float[]? filters = preprocessor is null ? null : ReadMelFilters(preprocessor.RootElement, melBins, directory);
        return new WhisperModelFolder(directory)
        {
            EncoderPath = files.Encoder,
            DecoderPath = files.Decoder,
            DecoderWithPastPath = files.WithPast,
            Variant = files.Variant,
            MelBins = melBins,
            MelFilters = filters,
            DecoderLayers = Int(c, "decoder_layers", directory),
            DecoderHeads = Int(c, "decoder_attention_heads", directory),
            DModel = Int(c, "d_model", directory),
            AudioContext = c.TryGetProperty("max_source_positions", out JsonElement s) ? s.GetInt32() : 1500,
            TextContext = c.TryGetProperty("max_target_positions", out JsonElement t) ? t.GetInt32() : 448,
            VocabSize = Int(c, "vocab_size", directory),
            Tokenizer = tokenizer,
            Tokens = WhisperTokens.Create(tokenizer, generation!.RootElement, c, directory),
        };
    }

    private static JsonDocument? ReadJson(string directory, string name, bool required)
    {
        string path = Path.Combine(directory, name);
        if (!File.Exists(path))
        {
            return required ? throw new ModelFolderException($"'{directory}' has no {name}; a Whisper folder needs it.") : null;
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new ModelFolderException($"{name} in '{directory}' is not valid JSON: {ex.Message}", ex);
        }
    }

    private static int Int(JsonElement element, string name, string directory) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n > 0
            ? n
            : throw new ModelFolderException($"config.json in '{directory}' lacks a positive integer '{name}'.");

    /// <summary>preprocessor_config.json <c>mel_filters</c>, as [freq][mel] (Python's layout) or [mel][freq].</summary>
    private static float[]? ReadMelFilters(JsonElement preprocessor, int melBins, string directory)
    {
        if (!preprocessor.TryGetProperty("mel_filters", out JsonElement rows) || rows.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        const int Bins = Features.WhisperAudio.FrequencyBins;
        float[][] matrix = [.. rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray())];
        var filters = new float[melBins * Bins];
        if (matrix.Length == melBins && matrix.All(r => r.Length == Bins))
        {
            for (int m = 0; m < melBins; m++)
            {
                matrix[m].CopyTo(filters, m * Bins);
            }
        }
        else if (matrix.Length == Bins && matrix.All(r => r.Length == melBins))
        {
            for (int f = 0; f < Bins; f++)
            {
                for (int m = 0; m < melBins; m++)
                {
                    filters[(m * Bins) + f] = matrix[f][m];
                }
            }
        }
        else
        {
            throw new ModelFolderException($"preprocessor_config.json in '{directory}' has mel_filters of a shape other than {melBins} × {Bins}.");
        }

        return filters;
    }
}
