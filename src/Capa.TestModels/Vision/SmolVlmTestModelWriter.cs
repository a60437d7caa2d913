using System.Globalization;
using System.Text.Json;
using Capa.Models.Onnx;

namespace Capa.TestModels.Vision;

/// <summary>The sizes <see cref="SmolVlmTestModelWriter"/> writes.</summary>
public enum SmolVlmTestSize
{
    /// <summary>A few MB, for tests: 32-px tiles, a 2-layer vision tower and the tiny Llama decoder.</summary>
    Tiny,

    /// <summary>
    /// SmolVLM-256M-Instruct's shapes (SigLIP base patch-16/512 tower, pixel shuffle by 4, SmolLM2-135M decoder with
    /// 49,280 embedding rows; about 1 GB of fp32 weights), for benchmarks.
    /// </summary>
    RealShapes256M,
}

/// <summary>What <see cref="SmolVlmTestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record SmolVlmTestModelSpec
{
    /// <summary>Seed of the weights' pseudo-random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>The shapes to write.</summary>
    public SmolVlmTestSize Size { get; init; }

    /// <summary>Parses a size name: <c>tiny</c> or <c>256m-real-shapes</c>.</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static SmolVlmTestSize ParseSize(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => SmolVlmTestSize.Tiny,
        "256m-real-shapes" => SmolVlmTestSize.RealShapes256M,
        _ => throw new ArgumentException($"Unknown SmolVLM size '{value}'. Expected tiny or 256m-real-shapes.", nameof(value)),
    };

    /// <summary>The size's name as <see cref="ParseSize"/> reads it.</summary>
    public string SizeName => Size == SmolVlmTestSize.RealShapes256M ? "256m-real-shapes" : "tiny";
}

/// <summary>
/// Writes a random-weight SmolVLM (Idefics3) folder as onnx-community publishes them for transformers.js
/// (<c>onnx-community/SmolVLM-256M-Instruct</c>): <c>onnx/vision_encoder.onnx</c>, <c>onnx/embed_tokens.onnx</c>,
/// <c>onnx/decoder_model_merged.onnx</c> (taking <c>inputs_embeds</c>), <c>config.json</c> (<c>idefics3</c> with
/// <c>text_config</c>, <c>vision_config</c>, <c>image_token_id</c>, <c>scale_factor</c>), <c>generation_config.json</c>,
/// <c>preprocessor_config.json</c>, <c>processor_config.json</c>, and a tokenizer with SmolVLM's image tokens and its
/// real chat template (which expects <c>{"type": "image"}</c> content parts).
/// </summary>
public static class SmolVlmTestModelWriter
{
    /// <summary>SmolVLM's chat template (tokenizer_config.json and chat_template.json of the Instruct checkpoints).</summary>
    public const string ChatTemplate =
        "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
        + "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}"
        + "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

    /// <summary>The largest tile grid the tokenizer has row/column tokens for (<c>&lt;row_6_col_6&gt;</c>).</summary>
    public const int MaxGrid = 6;

    /// <summary>Writes the folder described by <paramref name="spec"/> into <paramref name="directory"/> (created if missing).</summary>
    public static TestModelResult Write(SmolVlmTestModelSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        TestModelFamily family = Family();
        TestTokenizer tokenizer = TestTokenizer.For(family);
        SmolVlmTestShapes shapes = spec.Size == SmolVlmTestSize.RealShapes256M ? SmolVlmTestShapes.RealShapes256M(tokenizer.Count) : SmolVlmTestShapes.Tiny(tokenizer.Count);
        string onnx = Path.Combine(directory, "onnx");
        Directory.CreateDirectory(onnx);
        var files = new List<string>();
        var options = new OnnxWriteOptions { ProducerName = "capa testmodel" };
        WriteGraph(SmolVlmVisionGraph.Build(shapes, spec.Seed), "vision_encoder.onnx");
        WriteGraph(DecoderGraph.EmbeddingGraph(shapes.Text, spec.Seed), "embed_tokens.onnx");
        WriteGraph(DecoderGraph.Build(shapes.Text, TestModelQuant.Fp32, spec.Seed, embedsInput: true), "decoder_model_merged.onnx");

        WriteFile(directory, "config.json", ConfigJson(tokenizer, shapes, spec), files);
        WriteFile(directory, "generation_config.json", GenerationConfigJson(tokenizer), files);
        WriteFile(directory, "preprocessor_config.json", PreprocessorConfigJson(shapes), files);
        WriteFile(directory, "processor_config.json", ProcessorConfigJson(shapes), files);
        WriteFile(directory, "tokenizer.json", tokenizer.TokenizerJson(), files);
        WriteFile(directory, "tokenizer_config.json", tokenizer.TokenizerConfigJson(ChatTemplate, shapes.Text.MaxPositions), files);
        WriteFile(directory, "special_tokens_map.json", tokenizer.SpecialTokensMapJson(), files);
        WriteFile(directory, "chat_template.json", TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("chat_template", ChatTemplate);
            w.WriteEndObject();
        }), files);
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);

        void WriteGraph(OnnxGraph graph, string name)
        {
            OnnxModelWriter.Write(graph, Path.Combine(onnx, name), options);
            files.Add("onnx/" + name);
        }
    }

    /// <summary>
    /// SmolVLM's tokenizer conventions (SmolLM2's <c>&lt;|endoftext|&gt;</c>, <c>&lt;|im_start|&gt;</c>,
    /// <c>&lt;|im_end|&gt;</c> first; the image tokens added after the vocabulary), on the shared test BPE.
    /// </summary>
    internal static TestModelFamily Family()
    {
        var trailing = new List<FamilyToken>
        {
            new("<fake_token_around_image>"), new("<image>"), new("<end_of_utterance>"), new("<global-img>"),
        };
        for (int r = 1; r <= MaxGrid; r++)
        {
            for (int c = 1; c <= MaxGrid; c++)
            {
                trailing.Add(new(string.Create(CultureInfo.InvariantCulture, $"<row_{r}_col_{c}>")));
            }
        }

        return new TestModelFamily
        {
            Arch = TestModelArch.Llama,
            ModelType = "idefics3",
            Architecture = "Idefics3ForConditionalGeneration",
            TemplateFamily = "smolvlm",
            TokenizerClass = "GPT2Tokenizer",
            PreTokenizerPattern = ByteLevelBpe.QwenPattern,
            LeadingTokens = [new("<|endoftext|>"), new("<|im_start|>"), new("<|im_end|>")],
            TrailingTokens = trailing,
            BosToken = "<|im_start|>",
            EosToken = "<end_of_utterance>",
            PadToken = "<|im_end|>",
            UnkToken = "<|endoftext|>",
            ConfigEos = ["<end_of_utterance>"],
            GenerationEos = ["<end_of_utterance>"],
        };
    }

    private static void WriteFile(string directory, string name, byte[] content, List<string> files)
    {
        File.WriteAllBytes(Path.Combine(directory, name), content);
        files.Add(name);
    }

    private static byte[] ConfigJson(TestTokenizer t, SmolVlmTestShapes s, SmolVlmTestModelSpec spec) => TestTokenizer.Json(w =>
    {
        TestModelShapes text = s.Text;
        w.WriteStartObject();
        w.WriteStartArray("architectures");
        w.WriteStringValue("Idefics3ForConditionalGeneration");
        w.WriteEndArray();
        w.WriteNumber("image_token_id", t.IdOf("<image>"));
        w.WriteString("model_type", "idefics3");
        w.WriteNumber("pad_token_id", t.IdOf("<|im_end|>"));
        w.WriteNumber("scale_factor", s.ScaleFactor);
        w.WriteStartObject("text_config");
        w.WriteStartArray("architectures");
        w.WriteStringValue("LlamaForCausalLM");
        w.WriteEndArray();
        w.WriteBoolean("attention_bias", false);
        w.WriteNumber("bos_token_id", t.IdOf("<|im_start|>"));
        w.WriteNumber("eos_token_id", t.IdOf("<end_of_utterance>"));
        w.WriteNumber("head_dim", text.HeadDim);
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("hidden_size", text.Hidden);
        w.WriteNumber("intermediate_size", text.Intermediate);
        w.WriteNumber("max_position_embeddings", text.MaxPositions);
        w.WriteBoolean("mlp_bias", false);
        w.WriteString("model_type", "llama");
        w.WriteNumber("num_attention_heads", text.Heads);
        w.WriteNumber("num_hidden_layers", text.Layers);
        w.WriteNumber("num_key_value_heads", text.KvHeads);
        w.WriteNumber("pad_token_id", t.IdOf("<|im_end|>"));
        w.WriteNumber("rms_norm_eps", text.RmsEps);
        w.WriteNull("rope_scaling");
        w.WriteNumber("rope_theta", text.RopeTheta);
        w.WriteBoolean("tie_word_embeddings", text.TiedEmbeddings);
        w.WriteBoolean("use_cache", true);
        w.WriteNumber("vocab_size", text.VocabSize);
        w.WriteEndObject();
        w.WriteBoolean("tie_word_embeddings", text.TiedEmbeddings);
        w.WriteString("torch_dtype", "float32");
        w.WriteString("transformers_version", "4.46.0");
        w.WriteBoolean("use_cache", true);
        w.WriteStartObject("vision_config");
        w.WriteNumber("hidden_size", s.VisionHidden);
        w.WriteNumber("image_size", s.ImageSize);
        w.WriteNumber("intermediate_size", s.VisionIntermediate);
        w.WriteNumber("layer_norm_eps", 1e-6);
        w.WriteStartObject("max_image_size");
        w.WriteNumber("longest_edge", s.ImageSize);
        w.WriteEndObject();
        w.WriteString("model_type", "idefics3_vision");
        w.WriteNumber("num_attention_heads", s.VisionHeads);
        w.WriteNumber("num_channels", 3);
        w.WriteNumber("num_hidden_layers", s.VisionLayers);
        w.WriteNumber("patch_size", s.PatchSize);
        w.WriteStartObject("size");
        w.WriteNumber("longest_edge", s.LongestEdge);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteNumber("vocab_size", text.VocabSize);
        w.WriteStartObject("transformers.js_config");
        w.WriteEndObject();
        w.WriteStartObject("capa_test_model");
        w.WriteString("note", "Random weights generated by `capa testmodel --arch smolvlm`: the architecture and files are real, the output is not meaningful text.");
        w.WriteString("size", spec.SizeName);
        w.WriteNumber("seed", spec.Seed);
        w.WriteNumber("tokenizer_size", t.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] GenerationConfigJson(TestTokenizer t) => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("bos_token_id", t.IdOf("<|im_start|>"));
        w.WriteStartArray("eos_token_id");
        w.WriteNumberValue(t.IdOf("<end_of_utterance>"));
        w.WriteEndArray();
        w.WriteNumber("pad_token_id", t.IdOf("<|im_end|>"));
        w.WriteString("transformers_version", "4.46.0");
        w.WriteEndObject();
    });

    /// <summary>The image processor's config: SmolVLM's, with the tile and resize edges scaled down.</summary>
    private static byte[] PreprocessorConfigJson(SmolVlmTestShapes s) => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("do_convert_rgb", true);
        w.WriteBoolean("do_image_splitting", true);
        w.WriteBoolean("do_normalize", true);
        w.WriteBoolean("do_pad", true);
        w.WriteBoolean("do_rescale", true);
        w.WriteBoolean("do_resize", true);
        w.WriteStartArray("image_mean");
        w.WriteNumberValue(0.5);
        w.WriteNumberValue(0.5);
        w.WriteNumberValue(0.5);
        w.WriteEndArray();
        w.WriteString("image_processor_type", "Idefics3ImageProcessor");
        w.WriteStartArray("image_std");
        w.WriteNumberValue(0.5);
        w.WriteNumberValue(0.5);
        w.WriteNumberValue(0.5);
        w.WriteEndArray();
        w.WriteStartObject("max_image_size");
        w.WriteNumber("longest_edge", s.ImageSize);
        w.WriteEndObject();
        w.WriteString("processor_class", "Idefics3Processor");
        w.WriteNumber("resample", 1);
        w.WriteNumber("rescale_factor", 1.0 / 255);
        w.WriteStartObject("size");
        w.WriteNumber("longest_edge", s.LongestEdge);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] ProcessorConfigJson(SmolVlmTestShapes s) => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("image_seq_len", s.ImageSeqLen);
        w.WriteString("processor_class", "Idefics3Processor");
        w.WriteEndObject();
    });
}
