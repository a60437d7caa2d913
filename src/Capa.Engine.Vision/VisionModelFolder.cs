using System.Text.Json;
using Capa.Models;
using Capa.Models.Config;
using Capa.Tokenizers;

namespace Capa.Engine.Vision;

/// <summary>The vision-language families a <see cref="VisionModelFolder"/> can hold.</summary>
public enum VisionFamily
{
    /// <summary>SmolVLM / SmolVLM2 (<c>model_type</c> <c>idefics3</c> or <c>smolvlm</c>): tiles of fixed size, <c>&lt;image&gt;</c> tokens.</summary>
    Idefics3,

    /// <summary>Qwen2-VL / Qwen2.5-VL (<c>qwen2_vl</c>, <c>qwen2_5_vl</c>): patch rows and a grid, <c>&lt;|image_pad|&gt;</c> tokens, multimodal RoPE.</summary>
    Qwen2VL,
}

/// <summary>
/// A vision-language folder (SmolVLM / Idefics3, or Qwen2-VL / Qwen2.5-VL: see <see cref="Family"/>) as onnx-community publishes them for transformers.js: three ONNX graphs by role —
/// <c>onnx/vision_encoder*.onnx</c>, <c>onnx/embed_tokens*.onnx</c>, <c>onnx/decoder_model_merged*.onnx</c> — with the
/// same variant suffix (none for fp32, <c>_fp16</c>, <c>_int8</c> or <c>_quantized</c>, <c>_q4</c>), <c>config.json</c>
/// (<c>idefics3</c> or <c>smolvlm</c>, with <c>text_config</c>, <c>vision_config</c> and <c>image_token_id</c>),
/// <c>generation_config.json</c>, <c>preprocessor_config.json</c>, <c>processor_config.json</c>, a tokenizer with the
/// image tokens and a chat template. A Qwen2-VL folder has a flat <c>config.json</c> (the text fields at the top,
/// <c>image_token_id</c>, <c>vision_start_token_id</c>, <c>vision_config.spatial_merge_size</c>) and no
/// <c>processor_config.json</c>. Loading checks the files and configs; the sessions check their own I/O.
/// </summary>
public sealed class VisionModelFolder
{
    /// <summary>The ONNX parts of a folder, by role, as transformers.js names the files.</summary>
    public static IReadOnlyList<string> Roles { get; } = ["vision_encoder", "embed_tokens", "decoder_model_merged"];

    private static readonly string[] ImageTokens = ["<image>", "<fake_token_around_image>", "<global-img>"];
    private static readonly string[] QwenImageTokens = ["<|vision_start|>", "<|image_pad|>", "<|vision_end|>"];

    private VisionModelFolder(string directory)
    {
        Directory = directory;
    }

    /// <summary>The folder's full path.</summary>
    public string Directory { get; }

    /// <summary><c>config.json</c>'s <c>model_type</c> (<c>idefics3</c>, <c>smolvlm</c>, <c>qwen2_vl</c> or <c>qwen2_5_vl</c>).</summary>
    public string ModelType { get; private init; } = "";

    /// <summary>The family, from <see cref="ModelType"/>.</summary>
    public VisionFamily Family { get; private init; }

    /// <summary>The token that opens an image (Qwen2-VL's <c>vision_start_token_id</c>); −1 for Idefics3.</summary>
    public int VisionStartTokenId { get; private init; } = -1;

    /// <summary>Patches merged per side into one image token (Qwen2-VL's <c>spatial_merge_size</c>); 0 for Idefics3.</summary>
    public int MergeSize { get; private init; }

    /// <summary>The weight format of the files chosen.</summary>
    public ModelVariant Variant { get; private init; }

    /// <summary>The vision encoder graph.</summary>
    public string VisionEncoderPath { get; private init; } = "";

    /// <summary>The token embedding graph.</summary>
    public string EmbedTokensPath { get; private init; } = "";

    /// <summary>The decoder graph (taking <c>inputs_embeds</c>).</summary>
    public string DecoderPath { get; private init; } = "";

    /// <summary>Every ONNX file used, with external data files, sorted: what the fingerprint digests.</summary>
    public IReadOnlyList<string> OnnxFiles { get; private init; } = [];

    /// <summary>The text decoder's fields, as the generation layer reads them.</summary>
    public ModelConfig TextConfig { get; private init; } = null!;

    /// <summary>Width of the text model's embeddings (<c>text_config.hidden_size</c>).</summary>
    public int TextHiddenSize { get; private init; }

    /// <summary>The id of <c>&lt;image&gt;</c> (Qwen2-VL: <c>&lt;|image_pad|&gt;</c>), whose positions receive vision features.</summary>
    public int ImageTokenId { get; private init; }

    /// <summary>Image tokens per tile (<c>processor_config.json</c>'s <c>image_seq_len</c>); 0 for Qwen2-VL.</summary>
    public int ImageSeqLen { get; private init; }

    /// <summary>Side of one tile in pixels (<c>vision_config.image_size</c>); 0 for Qwen2-VL.</summary>
    public int TileSize { get; private init; }

    /// <summary>End-of-sequence ids of config.json and generation_config.json.</summary>
    public IReadOnlyList<int> EosTokenIds { get; private init; } = [];

    /// <summary>The tokenizer.</summary>
    public HfTokenizer Tokenizer { get; private init; } = null!;

    /// <summary>The chat template's Jinja source.</summary>
    public string ChatTemplate { get; private init; } = "";

    /// <summary>Where <see cref="ChatTemplate"/> came from (file name).</summary>
    public string ChatTemplateSource { get; private init; } = "";

    /// <summary><c>bos_token</c> of <c>tokenizer_config.json</c>, when set.</summary>
    public string? BosToken { get; private init; }

    /// <summary><c>eos_token</c> of <c>tokenizer_config.json</c>, when set.</summary>
    public string? EosToken { get; private init; }

    /// <summary>
    /// Loads <paramref name="directory"/> with <paramref name="variant"/>, or, when null, the first of q4, int8, fp32,
    /// fp16 whose three graphs are all present.
    /// </summary>
    /// <exception cref="ModelFolderException">A file or a setting is missing or malformed; the message names it.</exception>
    public static VisionModelFolder Load(string directory, ModelVariant? variant = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new ModelFolderException($"The model folder '{dir}' does not exist.");
        }

        var (chosen, paths) = ChooseGraphs(dir, variant);
        using var config = ReadJson(dir, "config.json");
        var root = config.RootElement;
        var modelType = JsonConfigReader.String(root, "model_type");
        if (modelType is "qwen2_vl" or "qwen2_5_vl")
        {
            return LoadQwen2VL(dir, modelType, chosen, paths, root);
        }

        if (modelType is not ("idefics3" or "smolvlm"))
        {
            throw new ModelFolderException($"'{dir}' holds a {modelType ?? "model without a model_type"}, not a vision-language model Capa runs (config.json model_type idefics3, smolvlm, qwen2_vl or qwen2_5_vl).");
        }

        if (!root.TryGetProperty("text_config", out var text) || text.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFolderException($"'{dir}/config.json' has no text_config object.");
        }

        if (!root.TryGetProperty("vision_config", out var vision) || vision.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFolderException($"'{dir}/config.json' has no vision_config object.");
        }

        int Required(JsonElement e, string name, string where) =>
            JsonConfigReader.Int(e, name) ?? throw new ModelFolderException($"'{dir}/config.json' has no {where}{name}.");

        var hidden = Required(text, "hidden_size", "text_config.");
        var heads = JsonConfigReader.Int(text, "num_attention_heads");
        var textConfig = new ModelConfig
        {
            ModelType = JsonConfigReader.String(text, "model_type") ?? "llama",
            // SmolVLM's text model is SmolLM2, a Llama.
            Family = ModelFamily.Llama,
            VocabSize = JsonConfigReader.Int(text, "vocab_size") ?? Required(root, "vocab_size", ""),
            NumHiddenLayers = JsonConfigReader.Int(text, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = JsonConfigReader.Int(text, "num_key_value_heads") ?? heads,
            HeadDim = JsonConfigReader.Int(text, "head_dim") ?? (heads is > 0 ? hidden / heads : null),
            MaxContextLength = Required(text, "max_position_embeddings", "text_config."),
            EosTokenIds = JsonConfigReader.IntOrList(text, "eos_token_id"),
            BosTokenId = JsonConfigReader.Int(text, "bos_token_id"),
        };
        var imageToken = JsonConfigReader.Int(root, "image_token_id") ?? JsonConfigReader.Int(root, "image_token_index")
            ?? throw new ModelFolderException($"'{dir}/config.json' has no image_token_id.");
        var tileSize = Required(vision, "image_size", "vision_config.");

        using var generation = File.Exists(Path.Combine(dir, "generation_config.json")) ? ReadJson(dir, "generation_config.json") : null;
        IReadOnlyList<int> generationEos = generation is null ? [] : JsonConfigReader.IntOrList(generation.RootElement, "eos_token_id");

        if (!File.Exists(Path.Combine(dir, "preprocessor_config.json")))
        {
            throw new ModelFolderException($"'{dir}' has no preprocessor_config.json: the image processor's settings (tile size, resizing, normalisation) are read from it.");
        }

        using var processor = ReadJson(dir, "processor_config.json");
        var seqLen = JsonConfigReader.Int(processor.RootElement, "image_seq_len")
            ?? throw new ModelFolderException($"'{dir}/processor_config.json' has no image_seq_len.");

        var tokenizer = LoadTokenizer(dir);
        foreach (var token in ImageTokens)
        {
            if (tokenizer.TokenToId(token) is null)
            {
                throw new ModelFolderException($"The tokenizer of '{dir}' has no {token} token.");
            }
        }

        if (tokenizer.TokenToId("<image>") != imageToken)
        {
            throw new ModelFolderException($"'{dir}': config.json's image_token_id {imageToken} is not the tokenizer's <image> ({tokenizer.TokenToId("<image>")}).");
        }

        var (template, templateSource, bos, eos) = ReadTemplate(dir);
        return new VisionModelFolder(dir)
        {
            ModelType = modelType,
            Family = VisionFamily.Idefics3,
            Variant = chosen,
            VisionEncoderPath = paths[0],
            EmbedTokensPath = paths[1],
            DecoderPath = paths[2],
            OnnxFiles = OnnxFilesOf(dir, paths),
            TextConfig = textConfig,
            TextHiddenSize = hidden,
            ImageTokenId = imageToken,
            ImageSeqLen = seqLen,
            TileSize = tileSize,
            EosTokenIds = [.. textConfig.EosTokenIds.Concat(generationEos).Distinct().Order()],
            Tokenizer = tokenizer,
            ChatTemplate = template,
            ChatTemplateSource = templateSource,
            BosToken = bos,
            EosToken = eos,
        };
    }

    private static VisionModelFolder LoadQwen2VL(string dir, string modelType, ModelVariant chosen, string[] paths, JsonElement root)
    {
        // Qwen2-VL writes the text model's fields at the top; newer Qwen2.5-VL exports nest them in text_config.
        var text = root.TryGetProperty("text_config", out var nested) && nested.ValueKind == JsonValueKind.Object ? nested : root;
        int Required(JsonElement e, string name) =>
            JsonConfigReader.Int(e, name) ?? JsonConfigReader.Int(root, name) ?? throw new ModelFolderException($"'{dir}/config.json' has no {name}.");

        var hidden = Required(text, "hidden_size");
        var heads = JsonConfigReader.Int(text, "num_attention_heads");
        var textConfig = new ModelConfig
        {
            ModelType = modelType,
            Family = ModelFamily.Qwen2,
            VocabSize = Required(text, "vocab_size"),
            NumHiddenLayers = JsonConfigReader.Int(text, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = JsonConfigReader.Int(text, "num_key_value_heads") ?? heads,
            HeadDim = JsonConfigReader.Int(text, "head_dim") ?? (heads is > 0 ? hidden / heads : null),
            MaxContextLength = Required(text, "max_position_embeddings"),
            EosTokenIds = JsonConfigReader.IntOrList(root, "eos_token_id").Concat(JsonConfigReader.IntOrList(text, "eos_token_id")).Distinct().ToList(),
            BosTokenId = JsonConfigReader.Int(root, "bos_token_id"),
        };
        var imageToken = Required(root, "image_token_id");
        var visionStart = Required(root, "vision_start_token_id");
        var merge = root.TryGetProperty("vision_config", out var vision) && vision.ValueKind == JsonValueKind.Object
            ? JsonConfigReader.Int(vision, "spatial_merge_size") ?? 2
            : 2;
        if (merge <= 0)
        {
            throw new ModelFolderException($"'{dir}/config.json': vision_config.spatial_merge_size must be positive.");
        }

        using var generation = File.Exists(Path.Combine(dir, "generation_config.json")) ? ReadJson(dir, "generation_config.json") : null;
        IReadOnlyList<int> generationEos = generation is null ? [] : JsonConfigReader.IntOrList(generation.RootElement, "eos_token_id");
        if (!File.Exists(Path.Combine(dir, "preprocessor_config.json")))
        {
            throw new ModelFolderException($"'{dir}' has no preprocessor_config.json: the image processor's settings (pixel budget, patches, normalisation) are read from it.");
        }

        var tokenizer = LoadTokenizer(dir);
        foreach (var token in QwenImageTokens)
        {
            if (tokenizer.TokenToId(token) is null)
            {
                throw new ModelFolderException($"The tokenizer of '{dir}' has no {token} token.");
            }
        }

        if (tokenizer.TokenToId("<|image_pad|>") != imageToken || tokenizer.TokenToId("<|vision_start|>") != visionStart)
        {
            throw new ModelFolderException(
                $"'{dir}': config.json's image_token_id {imageToken} and vision_start_token_id {visionStart} are not the tokenizer's <|image_pad|> ({tokenizer.TokenToId("<|image_pad|>")}) and <|vision_start|> ({tokenizer.TokenToId("<|vision_start|>")}).");
        }

        var (template, templateSource, bos, eos) = ReadTemplate(dir);
        return new VisionModelFolder(dir)
        {
            ModelType = modelType,
            Family = VisionFamily.Qwen2VL,
            Variant = chosen,
            VisionEncoderPath = paths[0],
            EmbedTokensPath = paths[1],
            DecoderPath = paths[2],
            OnnxFiles = OnnxFilesOf(dir, paths),
            TextConfig = textConfig,
            TextHiddenSize = hidden,
            ImageTokenId = imageToken,
            VisionStartTokenId = visionStart,
            MergeSize = merge,
            EosTokenIds = [.. textConfig.EosTokenIds.Concat(generationEos).Distinct().Order()],
            Tokenizer = tokenizer,
            ChatTemplate = template,
            ChatTemplateSource = templateSource,
            BosToken = bos,
            EosToken = eos,
        };
    }

    private static HfTokenizer LoadTokenizer(string dir)
    {
        try
        {
            return HfTokenizer.FromFolder(dir);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidDataException or ArgumentException or JsonException or NotSupportedException)
        {
            throw new ModelFolderException($"The tokenizer of '{dir}' cannot be loaded: {ex.Message}", ex);
        }
    }

    private static List<string> OnnxFilesOf(string dir, string[] paths) =>
        System.IO.Directory.GetFiles(Path.Combine(dir, "onnx"))
            .Where(f => paths.Any(p => f == p || Path.GetFileName(f).StartsWith(Path.GetFileName(p) + "_data", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static (ModelVariant Variant, string[] Paths) ChooseGraphs(string dir, ModelVariant? variant)
    {
        var onnx = Path.Combine(dir, "onnx");
        var candidates = variant is { } wanted ? [wanted] : ModelVariants.CpuPreference;
        var missing = new List<string>();
        foreach (var candidate in candidates)
        {
            var paths = new string[Roles.Count];
            missing.Clear();
            for (var r = 0; r < Roles.Count; r++)
            {
                var found = candidate.FileStems()
                    .Select(stem => Path.Combine(onnx, Roles[r] + Suffix(stem) + ".onnx"))
                    .FirstOrDefault(File.Exists);
                if (found is null)
                {
                    missing.Add("onnx/" + Roles[r] + Suffix(candidate.FileStems()[0]) + ".onnx");
                }
                else
                {
                    paths[r] = found;
                }
            }

            if (missing.Count == 0)
            {
                return (candidate, paths);
            }
        }

        var present = System.IO.Directory.Exists(onnx)
            ? string.Join(", ", System.IO.Directory.EnumerateFiles(onnx, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal))
            : "no onnx/ folder";
        var what = variant is { } v
            ? $"its {v.Name()} variant lacks {string.Join(", ", missing)}"
            : "no variant (q4, int8, fp32, fp16) has all of onnx/vision_encoder*.onnx, onnx/embed_tokens*.onnx and onnx/decoder_model_merged*.onnx";
        throw new ModelFolderException($"'{dir}' is not a vision-language folder Capa can run: {what}. Found: {(present.Length == 0 ? "none" : present)}.");
    }

    // A chat variant's stem ("model_q4") names the suffix every part of a multi-part folder carries ("_q4").
    private static string Suffix(string modelStem) => modelStem["model".Length..];

    private static JsonDocument ReadJson(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (!File.Exists(path))
        {
            throw new ModelFolderException($"'{dir}' has no {name}; a SmolVLM folder needs it.");
        }

        return JsonConfigReader.ParseFile(path);
    }

    private static (string Template, string Source, string? Bos, string? Eos) ReadTemplate(string dir)
    {
        string? template = null, source = null, bos = null, eos = null;
        var tokenizerConfig = Path.Combine(dir, "tokenizer_config.json");
        if (File.Exists(tokenizerConfig))
        {
            using var doc = JsonConfigReader.ParseFile(tokenizerConfig);
            bos = TokenText(doc.RootElement, "bos_token");
            eos = TokenText(doc.RootElement, "eos_token");
            if (JsonConfigReader.String(doc.RootElement, "chat_template") is { } t)
            {
                (template, source) = (t, "tokenizer_config.json");
            }
        }

        // Processors keep their template in chat_template.json (or .jinja); it is the one transformers applies.
        var json = Path.Combine(dir, "chat_template.json");
        if (File.Exists(json))
        {
            using var doc = JsonConfigReader.ParseFile(json);
            if (JsonConfigReader.String(doc.RootElement, "chat_template") is { } t)
            {
                (template, source) = (t, "chat_template.json");
            }
        }

        var jinja = Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinja))
        {
            (template, source) = (File.ReadAllText(jinja), "chat_template.jinja");
        }

        return template is null || source is null
            ? throw new ModelFolderException($"'{dir}' has no chat template (tokenizer_config.json chat_template, chat_template.json or chat_template.jinja).")
            : (template, source, bos, eos);
    }

    private static string? TokenText(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) ? null : v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object => JsonConfigReader.String(v, "content"),
            _ => null,
        };
}
