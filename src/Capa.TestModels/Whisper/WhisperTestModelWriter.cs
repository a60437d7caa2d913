using System.Text.Json;
using Capa.Models.Onnx;
using Capa.Tokenizers;

namespace Capa.TestModels.Whisper;

/// <summary>What <see cref="WhisperTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record WhisperTestModelSpec
{
    /// <summary>The size.</summary>
    public WhisperTestSize Size { get; init; } = WhisperTestSize.Tiny;

    /// <summary>Seed of the weights' pseudo-random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Whether the decoder also outputs each layer's cross-attention weights (<c>cross_attentions.N</c>), as the
    /// <c>*_timestamped</c> exports do for word timestamps. The weights are the same either way.
    /// </summary>
    public bool CrossAttentions { get; init; }

    /// <summary>Parses a size name (<c>tiny</c>, <c>tiny-real-shapes</c>, <c>base-real-shapes</c>).</summary>
    public static WhisperTestSize ParseSize(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => WhisperTestSize.Tiny,
        "tiny-real-shapes" => WhisperTestSize.TinyRealShapes,
        "base-real-shapes" => WhisperTestSize.BaseRealShapes,
        _ => throw new ArgumentException($"Unknown Whisper size '{value}'. Expected tiny, tiny-real-shapes or base-real-shapes.", nameof(value)),
    };
}

/// <summary>
/// Writes a random-weight Whisper folder as onnx-community publishes them for transformers.js:
/// <c>onnx/encoder_model.onnx</c>, <c>onnx/decoder_model_merged.onnx</c>, <c>config.json</c>,
/// <c>generation_config.json</c> (language and task ids, timestamps, suppress lists, alignment heads),
/// <c>preprocessor_config.json</c> and a multilingual Whisper tokenizer; optionally a decoder with cross-attention
/// outputs (<see cref="WhisperTestModelSpec.CrossAttentions"/>).
/// </summary>
public static class WhisperTestModelWriter
{
    /// <summary>Writes the folder described by <paramref name="spec"/> into <paramref name="directory"/> (created if missing).</summary>
    public static TestModelResult Write(WhisperTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var tokenizer = new WhisperTestTokenizer();
        WhisperTestShapes shapes = WhisperTestShapes.Create(spec.Size, tokenizer.Count);
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        var files = new List<string>();
        var options = new OnnxWriteOptions { ProducerName = "capa testmodel" };
        OnnxModelWriter.Write(WhisperGraphs.Encoder(shapes, spec.Seed), Path.Combine(directory, "onnx", "encoder_model.onnx"), options);
        files.Add("onnx/encoder_model.onnx");
        OnnxModelWriter.Write(WhisperGraphs.MergedDecoder(shapes, spec.Seed, spec.CrossAttentions), Path.Combine(directory, "onnx", "decoder_model_merged.onnx"), options);
        files.Add("onnx/decoder_model_merged.onnx");

        byte[] tokenizerJson = tokenizer.TokenizerJson();
        HfTokenizer loaded = HfTokenizer.FromJson(System.Text.Encoding.UTF8.GetString(tokenizerJson));
        int[] suppress = SuppressTokens(tokenizer, loaded);
        int space = loaded.Encode(" ").Single();
        int[] beginSuppress = [space, tokenizer.IdOf("<|endoftext|>")];

        WriteFile(directory, "tokenizer.json", tokenizerJson, files);
        WriteFile(directory, "tokenizer_config.json", tokenizer.TokenizerConfigJson(), files);
        WriteFile(directory, "special_tokens_map.json", WhisperTestTokenizer.SpecialTokensMapJson(), files);
        WriteFile(directory, "config.json", ConfigJson(tokenizer, shapes, spec, suppress, beginSuppress), files);
        WriteFile(directory, "generation_config.json", GenerationConfigJson(tokenizer, shapes, suppress, beginSuppress), files);
        WriteFile(directory, "preprocessor_config.json", PreprocessorConfigJson(shapes), files);
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);
    }

    /// <summary>
    /// openai/whisper's <c>non_speech_tokens</c> (symbols and their space-prefixed forms that are one token, the first
    /// token of musical signs, " -" and " '"), plus the task and sequence tokens, as published configs list them.
    /// </summary>
    private static int[] SuppressTokens(WhisperTestTokenizer tokenizer, HfTokenizer loaded)
    {
        var symbols = "\"#()*+/:;<=>@[\\]^_`{|}~「」『』".Select(c => c.ToString()).ToList();
        symbols.AddRange("<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".Split(' '));
        string[] miscellaneous = ["♩", "♪", "♫", "♬", "♭", "♮", "♯"];
        var result = new SortedSet<int> { loaded.Encode(" -")[0], loaded.Encode(" '")[0] };
        foreach (string symbol in symbols.Concat(miscellaneous))
        {
            foreach (int[] ids in new[] { loaded.Encode(symbol), loaded.Encode(" " + symbol) })
            {
                if (ids.Length == 1 || miscellaneous.Contains(symbol))
                {
                    result.Add(ids[0]);
                }
            }
        }

        foreach (string special in new[] { "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>" })
        {
            result.Add(tokenizer.IdOf(special));
        }

        return [.. result];
    }

    private static void WriteFile(string directory, string name, byte[] content, List<string> files)
    {
        File.WriteAllBytes(Path.Combine(directory, name), content);
        files.Add(name);
    }

    private static void WriteIds(Utf8JsonWriter w, string name, IEnumerable<int> ids)
    {
        w.WriteStartArray(name);
        foreach (int id in ids)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
    }

    private static byte[] ConfigJson(WhisperTestTokenizer t, WhisperTestShapes s, WhisperTestModelSpec spec, int[] suppress, int[] beginSuppress) => TestTokenizer.Json(w =>
    {
        int eot = t.IdOf("<|endoftext|>");
        w.WriteStartObject();
        w.WriteString("_name_or_path", "capa/whisper-test");
        w.WriteString("activation_function", "gelu");
        w.WriteStartArray("architectures");
        w.WriteStringValue("WhisperForConditionalGeneration");
        w.WriteEndArray();
        WriteIds(w, "begin_suppress_tokens", beginSuppress);
        w.WriteNumber("bos_token_id", eot);
        w.WriteNumber("d_model", s.DModel);
        w.WriteNumber("decoder_attention_heads", s.Heads);
        w.WriteNumber("decoder_ffn_dim", s.FfnDim);
        w.WriteNumber("decoder_layers", s.DecoderLayers);
        w.WriteNumber("decoder_start_token_id", t.IdOf("<|startoftranscript|>"));
        w.WriteNumber("encoder_attention_heads", s.Heads);
        w.WriteNumber("encoder_ffn_dim", s.FfnDim);
        w.WriteNumber("encoder_layers", s.EncoderLayers);
        w.WriteNumber("eos_token_id", eot);
        w.WriteBoolean("is_encoder_decoder", true);
        w.WriteNumber("max_length", WhisperTestShapes.TargetPositions);
        w.WriteNumber("max_source_positions", WhisperTestShapes.SourcePositions);
        w.WriteNumber("max_target_positions", WhisperTestShapes.TargetPositions);
        w.WriteString("model_type", "whisper");
        w.WriteNumber("num_hidden_layers", s.EncoderLayers);
        w.WriteNumber("num_mel_bins", s.MelBins);
        w.WriteNumber("pad_token_id", eot);
        w.WriteBoolean("scale_embedding", false);
        WriteIds(w, "suppress_tokens", suppress);
        w.WriteString("torch_dtype", "float32");
        w.WriteString("transformers_version", "4.45.0");
        w.WriteBoolean("use_cache", true);
        w.WriteNumber("vocab_size", s.VocabSize);
        w.WriteStartObject("capa_test_model");
        w.WriteString("note", "Random weights generated by `capa testmodel`: the architecture and files are real, the transcripts are not meaningful.");
        w.WriteString("size", spec.Size switch { WhisperTestSize.Tiny => "tiny", WhisperTestSize.TinyRealShapes => "tiny-real-shapes", _ => "base-real-shapes" });
        w.WriteNumber("seed", spec.Seed);
        if (spec.CrossAttentions)
        {
            w.WriteBoolean("cross_attentions", true);
        }
        w.WriteNumber("tokenizer_size", t.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] GenerationConfigJson(WhisperTestTokenizer t, WhisperTestShapes s, int[] suppress, int[] beginSuppress) => TestTokenizer.Json(w =>
    {
        int eot = t.IdOf("<|endoftext|>");
        w.WriteStartObject();
        // The last half of the decoder's heads, as the published configs list the heads that follow the audio.
        w.WriteStartArray("alignment_heads");
        for (int layer = s.DecoderLayers / 2; layer < s.DecoderLayers; layer++)
        {
            for (int head = 0; head < s.Heads; head += 2)
            {
                w.WriteStartArray();
                w.WriteNumberValue(layer);
                w.WriteNumberValue(head);
                w.WriteEndArray();
            }
        }

        w.WriteEndArray();
        WriteIds(w, "begin_suppress_tokens", beginSuppress);
        w.WriteNumber("bos_token_id", eot);
        w.WriteNumber("decoder_start_token_id", t.IdOf("<|startoftranscript|>"));
        w.WriteNumber("eos_token_id", eot);
        w.WriteBoolean("is_multilingual", true);
        w.WriteStartObject("lang_to_id");
        foreach (string code in WhisperTestTokenizer.LanguageCodes)
        {
            w.WriteNumber("<|" + code + "|>", t.IdOf("<|" + code + "|>"));
        }

        w.WriteEndObject();
        w.WriteNumber("max_initial_timestamp_index", 50);
        w.WriteNumber("max_length", WhisperTestShapes.TargetPositions);
        w.WriteNumber("no_timestamps_token_id", t.IdOf("<|notimestamps|>"));
        w.WriteNumber("pad_token_id", eot);
        w.WriteNumber("prev_sot_token_id", t.IdOf("<|startofprev|>"));
        w.WriteBoolean("return_timestamps", false);
        WriteIds(w, "suppress_tokens", suppress);
        w.WriteStartObject("task_to_id");
        w.WriteNumber("transcribe", t.IdOf("<|transcribe|>"));
        w.WriteNumber("translate", t.IdOf("<|translate|>"));
        w.WriteEndObject();
        w.WriteString("transformers_version", "4.45.0");
        w.WriteEndObject();
    });

    private static byte[] PreprocessorConfigJson(WhisperTestShapes s) => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("chunk_length", 30);
        w.WriteString("feature_extractor_type", "WhisperFeatureExtractor");
        w.WriteNumber("feature_size", s.MelBins);
        w.WriteNumber("hop_length", 160);
        w.WriteNumber("n_fft", 400);
        w.WriteNumber("n_samples", 480000);
        w.WriteNumber("nb_max_frames", 3000);
        w.WriteString("padding_side", "right");
        w.WriteNumber("padding_value", 0.0);
        w.WriteString("processor_class", "WhisperProcessor");
        w.WriteBoolean("return_attention_mask", false);
        w.WriteNumber("sampling_rate", 16000);
        w.WriteEndObject();
    });
}
