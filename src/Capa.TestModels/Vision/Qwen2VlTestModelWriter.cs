using Capa.Models.Onnx;

namespace Capa.TestModels.Vision;

/// <summary>
/// Writes a random-weight Qwen2-VL folder as onnx-community publishes them for transformers.js
/// (<c>onnx-community/Qwen2-VL-2B-Instruct</c>): <c>onnx/vision_encoder.onnx</c> (<c>pixel_values</c> [patches, 1176],
/// <c>grid_thw</c> [images, 3]), <c>onnx/embed_tokens.onnx</c>, <c>onnx/decoder_model_merged.onnx</c> (taking
/// <c>inputs_embeds</c> and <c>position_ids</c> [3, batch, seq]), a flat <c>config.json</c> (<c>qwen2_vl</c> with the
/// vision token ids, <c>vision_config</c> and <c>rope_scaling.mrope_section</c>), <c>generation_config.json</c>,
/// <c>preprocessor_config.json</c> (Qwen2VLImageProcessor: pixel budget, patch geometry, CLIP mean/std), and a Qwen2
/// tokenizer with the vision tokens and Qwen2-VL's real chat template. With <see cref="Qwen2VlTestFamily.Qwen25"/> the
/// folder is shaped as Qwen2.5-VL's (<c>onnx-community/Qwen2.5-VL-3B-Instruct-ONNX</c>): <c>qwen2_5_vl</c>, the text
/// fields nested in <c>text_config</c>, a Qwen2.5-VL <c>vision_config</c>, the grid input named <c>image_grid_thw</c>
/// and <c>Qwen2_5_VLProcessor</c>; the graphs' weights, the tokenizer and the chat template (which Qwen2.5-VL-Instruct
/// kept unchanged) are the same.
/// </summary>
public static class Qwen2VlTestModelWriter
{
    /// <summary>Qwen2-VL-Instruct's chat template (chat_template.json of Qwen/Qwen2-VL-2B-Instruct).</summary>
    public const string ChatTemplate =
        "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
        + "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
        + "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /// <summary>Writes the folder into <paramref name="directory"/> (created if missing). The same seed always yields the same bytes.</summary>
    public static TestModelResult Write(ulong seed, string directory) => Write(seed, directory, Qwen2VlTestFamily.Qwen2);

    /// <summary>Writes a folder of <paramref name="variant"/>'s shape into <paramref name="directory"/> (created if missing). The same seed always yields the same bytes.</summary>
    public static TestModelResult Write(ulong seed, string directory, Qwen2VlTestFamily variant)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Enum.IsDefined(variant))
        {
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown Qwen2-VL family.");
        }

        bool qwen25 = variant == Qwen2VlTestFamily.Qwen25;
        TestModelFamily family = Family();
        TestTokenizer tokenizer = TestTokenizer.For(family);
        Qwen2VlTestShapes shapes = Qwen2VlTestShapes.Tiny(tokenizer.Count);
        string onnx = Path.Combine(directory, "onnx");
        Directory.CreateDirectory(onnx);
        var files = new List<string>();
        var options = new OnnxWriteOptions { ProducerName = "capa testmodel" };
        WriteGraph(Qwen2VlVisionGraph.Build(shapes, seed, qwen25 ? "image_grid_thw" : "grid_thw"), "vision_encoder.onnx");
        WriteGraph(DecoderGraph.EmbeddingGraph(shapes.Text, seed), "embed_tokens.onnx");
        WriteGraph(DecoderGraph.Build(shapes.Text, TestModelQuant.Fp32, seed, embedsInput: true, mropeSection: shapes.MropeSection), "decoder_model_merged.onnx");

        WriteFile("config.json", qwen25 ? Qwen25ConfigJson(tokenizer, shapes, seed) : ConfigJson(tokenizer, shapes, seed));
        WriteFile("generation_config.json", GenerationConfigJson(tokenizer));
        WriteFile("preprocessor_config.json", PreprocessorConfigJson(shapes, qwen25 ? "Qwen2_5_VLProcessor" : "Qwen2VLProcessor"));
        WriteFile("tokenizer.json", tokenizer.TokenizerJson());
        WriteFile("tokenizer_config.json", tokenizer.TokenizerConfigJson(ChatTemplate, shapes.Text.MaxPositions));
        WriteFile("special_tokens_map.json", tokenizer.SpecialTokensMapJson());
        WriteFile("chat_template.json", TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("chat_template", ChatTemplate);
            w.WriteEndObject();
        }));
        files.Sort(StringComparer.Ordinal);
        long total = files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length);
        return new TestModelResult(directory, files, total, tokenizer.Count);

        void WriteGraph(OnnxGraph graph, string name)
        {
            OnnxModelWriter.Write(graph, Path.Combine(onnx, name), options);
            files.Add("onnx/" + name);
        }

        void WriteFile(string name, byte[] content)
        {
            File.WriteAllBytes(Path.Combine(directory, name), content);
            files.Add(name);
        }
    }

    /// <summary>Qwen2's tokenizer conventions (its added tokens, the vision ones among them), as Qwen2-VL ships them.</summary>
    internal static TestModelFamily Family() => TestModelFamily.For(TestModelArch.Qwen2) with
    {
        ModelType = "qwen2_vl",
        Architecture = "Qwen2VLForConditionalGeneration",
        TemplateFamily = "qwen2-vl",
    };

    /// <summary>
    /// Qwen2.5-VL's config as transformers ≥ 4.53 saves it (and transformers.js reads it: the text model's settings from
    /// <c>text_config</c>): the vision token ids at the top, the text fields in <c>text_config</c>, and Qwen2.5-VL's
    /// vision tower settings (window attention, <c>out_hidden_size</c> the text width).
    /// </summary>
    private static byte[] Qwen25ConfigJson(TestTokenizer t, Qwen2VlTestShapes s, ulong seed) => TestTokenizer.Json(w =>
    {
        TestModelShapes text = s.Text;
        w.WriteStartObject();
        w.WriteStartArray("architectures");
        w.WriteStringValue("Qwen2_5_VLForConditionalGeneration");
        w.WriteEndArray();
        w.WriteNumber("bos_token_id", t.IdOf("<|endoftext|>"));
        w.WriteNumber("eos_token_id", t.IdOf("<|im_end|>"));
        w.WriteNumber("image_token_id", t.IdOf("<|image_pad|>"));
        w.WriteNumber("video_token_id", t.IdOf("<|video_pad|>"));
        w.WriteNumber("vision_start_token_id", t.IdOf("<|vision_start|>"));
        w.WriteNumber("vision_end_token_id", t.IdOf("<|vision_end|>"));
        w.WriteNumber("vision_token_id", t.IdOf("<|vision_pad|>"));
        w.WriteString("model_type", "qwen2_5_vl");
        w.WriteBoolean("tie_word_embeddings", text.TiedEmbeddings);
        w.WriteString("transformers_version", "4.56.0");
        w.WriteStartObject("text_config");
        w.WriteNumber("attention_dropout", 0.0);
        w.WriteNumber("bos_token_id", t.IdOf("<|endoftext|>"));
        w.WriteNumber("eos_token_id", t.IdOf("<|im_end|>"));
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("hidden_size", text.Hidden);
        w.WriteNumber("intermediate_size", text.Intermediate);
        w.WriteNumber("max_position_embeddings", text.MaxPositions);
        w.WriteNumber("max_window_layers", text.Layers);
        w.WriteString("model_type", "qwen2_5_vl_text");
        w.WriteNumber("num_attention_heads", text.Heads);
        w.WriteNumber("num_hidden_layers", text.Layers);
        w.WriteNumber("num_key_value_heads", text.KvHeads);
        w.WriteNumber("rms_norm_eps", text.RmsEps);
        w.WriteNumber("rope_theta", text.RopeTheta);
        w.WriteStartObject("rope_scaling");
        w.WriteString("type", "mrope");
        w.WriteStartArray("mrope_section");
        foreach (int band in s.MropeSection)
        {
            w.WriteNumberValue(band);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteNumber("sliding_window", text.MaxPositions);
        w.WriteBoolean("tie_word_embeddings", text.TiedEmbeddings);
        w.WriteString("torch_dtype", "float32");
        w.WriteBoolean("use_cache", true);
        w.WriteBoolean("use_sliding_window", false);
        w.WriteNumber("vocab_size", text.VocabSize);
        w.WriteEndObject();
        w.WriteStartObject("vision_config");
        w.WriteNumber("depth", 1);
        w.WriteStartArray("fullatt_block_indexes");
        w.WriteNumberValue(0);
        w.WriteEndArray();
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("hidden_size", s.VisionHidden);
        w.WriteNumber("in_channels", 3);
        w.WriteNumber("intermediate_size", s.VisionHidden * 4);
        w.WriteString("model_type", "qwen2_5_vl");
        w.WriteNumber("num_heads", 2);
        w.WriteNumber("out_hidden_size", text.Hidden);
        w.WriteNumber("patch_size", s.PatchSize);
        w.WriteNumber("spatial_merge_size", s.MergeSize);
        w.WriteNumber("spatial_patch_size", s.PatchSize);
        w.WriteNumber("temporal_patch_size", s.TemporalPatchSize);
        w.WriteNumber("tokens_per_second", 2);
        w.WriteNumber("window_size", s.PatchSize * s.MergeSize * 4);
        w.WriteEndObject();
        w.WriteStartObject("capa_test_model");
        w.WriteString("note", "Random weights generated by `capa testmodel --arch qwen2.5vl`: the architecture and files are real, the output is not meaningful text.");
        w.WriteString("size", "tiny");
        w.WriteNumber("seed", seed);
        w.WriteNumber("tokenizer_size", t.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] ConfigJson(TestTokenizer t, Qwen2VlTestShapes s, ulong seed) => TestTokenizer.Json(w =>
    {
        TestModelShapes text = s.Text;
        w.WriteStartObject();
        w.WriteStartArray("architectures");
        w.WriteStringValue("Qwen2VLForConditionalGeneration");
        w.WriteEndArray();
        w.WriteNumber("attention_dropout", 0.0);
        w.WriteNumber("bos_token_id", t.IdOf("<|endoftext|>"));
        w.WriteNumber("eos_token_id", t.IdOf("<|im_end|>"));
        w.WriteNumber("vision_start_token_id", t.IdOf("<|vision_start|>"));
        w.WriteNumber("vision_end_token_id", t.IdOf("<|vision_end|>"));
        w.WriteNumber("vision_token_id", t.IdOf("<|vision_pad|>"));
        w.WriteNumber("image_token_id", t.IdOf("<|image_pad|>"));
        w.WriteNumber("video_token_id", t.IdOf("<|video_pad|>"));
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("hidden_size", text.Hidden);
        w.WriteNumber("intermediate_size", text.Intermediate);
        w.WriteNumber("max_position_embeddings", text.MaxPositions);
        w.WriteString("model_type", "qwen2_vl");
        w.WriteNumber("num_attention_heads", text.Heads);
        w.WriteNumber("num_hidden_layers", text.Layers);
        w.WriteNumber("num_key_value_heads", text.KvHeads);
        w.WriteNumber("rms_norm_eps", text.RmsEps);
        w.WriteNumber("rope_theta", text.RopeTheta);
        w.WriteStartObject("rope_scaling");
        w.WriteString("type", "mrope");
        w.WriteStartArray("mrope_section");
        foreach (int band in s.MropeSection)
        {
            w.WriteNumberValue(band);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteNumber("sliding_window", text.MaxPositions);
        w.WriteBoolean("tie_word_embeddings", text.TiedEmbeddings);
        w.WriteString("torch_dtype", "float32");
        w.WriteString("transformers_version", "4.45.0");
        w.WriteBoolean("use_cache", true);
        w.WriteBoolean("use_sliding_window", false);
        w.WriteStartObject("vision_config");
        w.WriteNumber("depth", 1);
        w.WriteNumber("embed_dim", s.VisionHidden);
        w.WriteNumber("hidden_size", text.Hidden);
        w.WriteNumber("in_chans", 3);
        w.WriteNumber("mlp_ratio", 4);
        w.WriteNumber("num_heads", 2);
        w.WriteNumber("patch_size", s.PatchSize);
        w.WriteNumber("spatial_merge_size", s.MergeSize);
        w.WriteNumber("spatial_patch_size", s.PatchSize);
        w.WriteNumber("temporal_patch_size", s.TemporalPatchSize);
        w.WriteEndObject();
        w.WriteNumber("vocab_size", text.VocabSize);
        w.WriteStartObject("capa_test_model");
        w.WriteString("note", "Random weights generated by `capa testmodel --arch qwen2vl`: the architecture and files are real, the output is not meaningful text.");
        w.WriteString("size", "tiny");
        w.WriteNumber("seed", seed);
        w.WriteNumber("tokenizer_size", t.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static byte[] GenerationConfigJson(TestTokenizer t) => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("bos_token_id", t.IdOf("<|endoftext|>"));
        w.WriteStartArray("eos_token_id");
        w.WriteNumberValue(t.IdOf("<|im_end|>"));
        w.WriteNumberValue(t.IdOf("<|endoftext|>"));
        w.WriteEndArray();
        w.WriteNumber("pad_token_id", t.IdOf("<|endoftext|>"));
        w.WriteString("transformers_version", "4.45.0");
        w.WriteEndObject();
    });

    /// <summary>The image processor's config: Qwen2-VL's (Qwen2.5-VL's differs only in its processor class), with a small pixel budget.</summary>
    private static byte[] PreprocessorConfigJson(Qwen2VlTestShapes s, string processorClass) => TestTokenizer.Json(w =>
    {
        // Python's processor writes every setting; transformers.js resizes only when do_resize is present.
        w.WriteStartObject();
        w.WriteBoolean("do_convert_rgb", true);
        w.WriteBoolean("do_normalize", true);
        w.WriteBoolean("do_rescale", true);
        w.WriteBoolean("do_resize", true);
        w.WriteNumber("resample", 3);
        w.WriteNumber("rescale_factor", 1.0 / 255);
        w.WriteNumber("min_pixels", s.MinPixels);
        w.WriteNumber("max_pixels", s.MaxPixels);
        w.WriteNumber("patch_size", s.PatchSize);
        w.WriteNumber("temporal_patch_size", s.TemporalPatchSize);
        w.WriteNumber("merge_size", s.MergeSize);
        w.WriteStartArray("image_mean");
        w.WriteNumberValue(0.48145466);
        w.WriteNumberValue(0.4578275);
        w.WriteNumberValue(0.40821073);
        w.WriteEndArray();
        w.WriteStartArray("image_std");
        w.WriteNumberValue(0.26862954);
        w.WriteNumberValue(0.26130258);
        w.WriteNumberValue(0.27577711);
        w.WriteEndArray();
        w.WriteString("image_processor_type", "Qwen2VLImageProcessor");
        w.WriteString("processor_class", processorClass);
        w.WriteEndObject();
    });
}

/// <summary>Which Qwen vision-language folder <see cref="Qwen2VlTestModelWriter"/> writes.</summary>
public enum Qwen2VlTestFamily
{
    /// <summary>Qwen2-VL (<c>qwen2_vl</c>, flat config, <c>grid_thw</c>).</summary>
    Qwen2,

    /// <summary>Qwen2.5-VL (<c>qwen2_5_vl</c>, nested <c>text_config</c>, <c>image_grid_thw</c>).</summary>
    Qwen25,
}
