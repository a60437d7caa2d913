using System.Text.Json;
using Capa.Models.Onnx;
using Capa.Templates;

namespace Capa.TestModels;

/// <summary>What <see cref="TestModelWriter.Write"/> produced.</summary>
/// <param name="Directory">The model folder.</param>
/// <param name="Files">Paths of the files written, relative to the folder, with '/' separators, sorted.</param>
/// <param name="TotalBytes">Total size of the files written.</param>
/// <param name="TokenizerSize">Token ids the tokenizer defines (the embedding may have more rows; see config.json's vocab_size).</param>
public sealed record TestModelResult(string Directory, IReadOnlyList<string> Files, long TotalBytes, int TokenizerSize);

/// <summary>
/// Writes a complete Hugging Face ONNX model folder with random weights, laid out as onnx-community and Xenova
/// publish them for transformers.js: <c>config.json</c>, <c>generation_config.json</c>, <c>tokenizer.json</c>,
/// <c>tokenizer_config.json</c> (with the family's real chat template), <c>special_tokens_map.json</c> and
/// <c>onnx/model*.onnx</c> (+ <c>.onnx_data</c> for large models). The same spec always yields the same bytes.
/// </summary>
public static class TestModelWriter
{
    /// <summary>Models whose weights exceed this keep them in <c>onnx/model*.onnx_data</c> beside the graph.</summary>
    public const long ExternalDataThresholdBytes = 256L << 20;

    /// <summary>Writes the model folder described by <paramref name="spec"/> into <paramref name="directory"/> (created if missing).</summary>
    /// <exception cref="ArgumentException">The spec lists no weight format, or a format twice.</exception>
    public static TestModelResult Write(TestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (spec.Quants.Count == 0)
        {
            throw new ArgumentException("At least one weight format (fp32, int8, q4) is needed.", nameof(spec));
        }

        if (spec.Quants.Distinct().Count() != spec.Quants.Count)
        {
            throw new ArgumentException("Each weight format may be listed once.", nameof(spec));
        }

        TestModelFamily family = TestModelFamily.For(spec.Arch);
        TestTokenizer tokenizer = TestTokenizer.For(family);
        TestModelShapes shapes = TestModelShapes.Create(spec.Arch, spec.Size, tokenizer.Count);
        string chatTemplate = KnownTemplates.Get(family.TemplateFamily);

        Directory.CreateDirectory(directory);
        string onnxDirectory = Path.Combine(directory, "onnx");
        Directory.CreateDirectory(onnxDirectory);
        var files = new List<string>();

        bool external = EstimatedWeightBytes(shapes) > ExternalDataThresholdBytes;
        foreach (TestModelQuant quant in spec.Quants.Order())
        {
            string fileName = TestModelSpec.OnnxFileName(quant);
            string dataName = external ? fileName + "_data" : "";
            // A previous run may have left a data file that this graph no longer references.
            File.Delete(Path.Combine(onnxDirectory, fileName + "_data"));
            OnnxGraph graph = DecoderGraph.Build(shapes, quant, spec.Seed);
            OnnxModelWriter.Write(graph, Path.Combine(onnxDirectory, fileName), new OnnxWriteOptions
            {
                ProducerName = "capa testmodel",
                ExternalDataFileName = external ? dataName : null,
            });
            files.Add("onnx/" + fileName);
            if (external)
            {
                files.Add("onnx/" + dataName);
            }
        }

        WriteFile(directory, "config.json", ConfigJson(family, tokenizer, shapes, spec, external), files);
        WriteFile(directory, "generation_config.json", GenerationConfigJson(family, tokenizer), files);
        WriteFile(directory, "tokenizer.json", tokenizer.TokenizerJson(), files);
        WriteFile(directory, "tokenizer_config.json", tokenizer.TokenizerConfigJson(chatTemplate, shapes.MaxPositions), files);
        WriteFile(directory, "special_tokens_map.json", tokenizer.SpecialTokensMapJson(), files);

        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);
    }

    private static long EstimatedWeightBytes(TestModelShapes s)
    {
        long attention = (long)s.Hidden * (s.Heads + 2 * s.KvHeads) * s.HeadDim + (long)s.Heads * s.HeadDim * s.Hidden;
        long mlp = 3L * s.Hidden * s.Intermediate;
        long embeddings = (long)s.VocabSize * s.Hidden * (s.TiedEmbeddings ? 1 : 2);
        return 4 * (s.Layers * (attention + mlp) + embeddings);
    }

    private static void WriteFile(string directory, string name, byte[] content, List<string> files)
    {
        File.WriteAllBytes(Path.Combine(directory, name), content);
        files.Add(name);
    }

    private static byte[] ConfigJson(TestModelFamily f, TestTokenizer t, TestModelShapes s, TestModelSpec spec, bool external)
    {
        return TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(f.Architecture);
            w.WriteEndArray();
            w.WriteNumber("attention_dropout", 0.0);
            if (f.Arch is TestModelArch.Llama or TestModelArch.Phi3)
            {
                w.WriteBoolean("attention_bias", false);
            }

            if (f.Arch == TestModelArch.Gemma)
            {
                w.WriteNumber("attn_logit_softcapping", s.AttentionSoftcap);
                w.WriteString("cache_implementation", "hybrid");
                w.WriteNumber("final_logit_softcapping", s.FinalSoftcap);
            }

            if (f.BosToken is not null)
            {
                w.WriteNumber("bos_token_id", t.IdOf(f.BosToken));
            }
            else
            {
                w.WriteNumber("bos_token_id", t.IdOf("<|endoftext|>"));
            }

            WriteIds(w, "eos_token_id", f.ConfigEos.Select(t.IdOf).ToArray(), asListWhenSingle: false);
            w.WriteNumber("head_dim", s.HeadDim);
            string activation = f.Arch == TestModelArch.Gemma ? "gelu_pytorch_tanh" : "silu";
            w.WriteString("hidden_act", activation);
            if (f.Arch == TestModelArch.Gemma)
            {
                w.WriteString("hidden_activation", activation);
            }

            w.WriteNumber("hidden_size", s.Hidden);
            w.WriteNumber("initializer_range", 0.02);
            w.WriteNumber("intermediate_size", s.Intermediate);
            w.WriteNumber("max_position_embeddings", s.MaxPositions);
            if (f.Arch == TestModelArch.Qwen2)
            {
                w.WriteNumber("max_window_layers", s.Layers);
            }

            if (f.Arch == TestModelArch.Llama)
            {
                w.WriteBoolean("mlp_bias", false);
            }

            w.WriteString("model_type", f.ModelType);
            w.WriteNumber("num_attention_heads", s.Heads);
            w.WriteNumber("num_hidden_layers", s.Layers);
            w.WriteNumber("num_key_value_heads", s.KvHeads);
            if (f.Arch == TestModelArch.Phi3)
            {
                w.WriteNumber("original_max_position_embeddings", s.MaxPositions);
            }

            if (f.PadToken is not null)
            {
                w.WriteNumber("pad_token_id", t.IdOf(f.PadToken));
            }

            if (f.Arch == TestModelArch.Gemma)
            {
                w.WriteNumber("query_pre_attn_scalar", s.QueryPreAttnScalar);
            }

            w.WriteNumber("rms_norm_eps", s.RmsEps);
            w.WriteNull("rope_scaling");
            w.WriteNumber("rope_theta", s.RopeTheta);
            if (f.Arch is TestModelArch.Qwen2 or TestModelArch.Phi3 or TestModelArch.Gemma)
            {
                // The graph attends to the whole context: a window as long as the context says so truthfully.
                w.WriteNumber("sliding_window", s.MaxPositions);
            }

            w.WriteBoolean("tie_word_embeddings", s.TiedEmbeddings);
            w.WriteString("torch_dtype", "float32");
            w.WriteString("transformers_version", "4.45.0");
            w.WriteBoolean("use_cache", true);
            if (f.Arch == TestModelArch.Qwen2)
            {
                w.WriteBoolean("use_sliding_window", false);
            }

            w.WriteNumber("vocab_size", s.VocabSize);
            w.WriteStartObject("transformers.js_config");
            if (external)
            {
                w.WriteBoolean("use_external_data_format", true);
            }

            w.WriteEndObject();
            w.WriteStartObject("capa_test_model");
            w.WriteString("note", "Random weights generated by `capa testmodel`: the architecture and files are real, the output is not meaningful text.");
            w.WriteString("size", spec.Size == TestModelSize.Tiny ? "tiny" : "0.5b");
            w.WriteNumber("seed", spec.Seed);
            w.WriteNumber("tokenizer_size", t.Count);
            if (s.VocabSize > t.Count)
            {
                w.WriteString("vocab_note", $"The tokenizer defines ids 0..{t.Count - 1}; embedding rows up to vocab_size - 1 exist but no token maps to them.");
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static byte[] GenerationConfigJson(TestModelFamily f, TestTokenizer t)
    {
        return TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("bos_token_id", t.IdOf(f.BosToken ?? "<|endoftext|>"));
            if (f.Arch == TestModelArch.Gemma)
            {
                w.WriteString("cache_implementation", "hybrid");
            }

            if (f.Sampling is { } sampling)
            {
                w.WriteBoolean("do_sample", sampling.DoSample);
            }

            WriteIds(w, "eos_token_id", f.GenerationEos.Select(t.IdOf).ToArray(), asListWhenSingle: true);
            if (f.PadToken is not null)
            {
                w.WriteNumber("pad_token_id", t.IdOf(f.PadToken));
            }

            if (f.Sampling is { } s)
            {
                if (s.RepetitionPenalty is { } penalty)
                {
                    w.WriteNumber("repetition_penalty", penalty);
                }

                w.WriteNumber("temperature", s.Temperature);
                if (s.TopK is { } topK)
                {
                    w.WriteNumber("top_k", topK);
                }

                w.WriteNumber("top_p", s.TopP);
            }

            w.WriteString("transformers_version", "4.45.0");
            w.WriteEndObject();
        });
    }

    private static void WriteIds(Utf8JsonWriter w, string name, int[] ids, bool asListWhenSingle)
    {
        if (ids.Length == 1 && !asListWhenSingle)
        {
            w.WriteNumber(name, ids[0]);
            return;
        }

        w.WriteStartArray(name);
        foreach (int id in ids)
        {
            w.WriteNumberValue(id);
        }

        w.WriteEndArray();
    }
}
