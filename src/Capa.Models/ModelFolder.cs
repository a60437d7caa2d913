using System.Text.Json;
using Capa.Models.Config;

namespace Capa.Models;

/// <summary>
/// A Hugging Face ONNX decoder folder as published for transformers.js / optimum: <c>config.json</c>,
/// <c>generation_config.json</c>, tokenizer files, a chat template, and <c>onnx/model*.onnx</c> with external data.
/// Loading validates the layout and reads the configuration; the ONNX session is created by the generation layer.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string directory, ModelConfig config, GenerationConfig generation, ModelVariant variant,
        string onnxPath, IReadOnlyList<string> onnxFiles, string? chatTemplate, string? chatTemplateSource,
        string? bosToken, string? eosToken)
    {
        Directory = directory;
        Config = config;
        Generation = generation;
        Variant = variant;
        OnnxPath = onnxPath;
        OnnxFiles = onnxFiles;
        ChatTemplate = chatTemplate;
        ChatTemplateSource = chatTemplateSource;
        BosToken = bosToken;
        EosToken = eosToken;
    }

    /// <summary>The folder's full path.</summary>
    public string Directory { get; }

    /// <summary><c>config.json</c>.</summary>
    public ModelConfig Config { get; }

    /// <summary><c>generation_config.json</c> (defaults when absent).</summary>
    public GenerationConfig Generation { get; }

    /// <summary>The variant chosen.</summary>
    public ModelVariant Variant { get; }

    /// <summary>The ONNX graph file of <see cref="Variant"/>.</summary>
    public string OnnxPath { get; }

    /// <summary>The graph file and its external data files (<c>.onnx_data</c>, <c>.onnx_data_1</c>, ...), sorted: what the fingerprint digests.</summary>
    public IReadOnlyList<string> OnnxFiles { get; }

    /// <summary>The chat template's Jinja source, or <see langword="null"/> when the folder carries none.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Where <see cref="ChatTemplate"/> came from (file name), for model cards and errors.</summary>
    public string? ChatTemplateSource { get; }

    /// <summary><c>bos_token</c> of <c>tokenizer_config.json</c> (a template variable).</summary>
    public string? BosToken { get; }

    /// <summary><c>eos_token</c> of <c>tokenizer_config.json</c> (a template variable).</summary>
    public string? EosToken { get; }

    /// <summary>End-of-sequence ids: the union of <c>config.json</c>'s and <c>generation_config.json</c>'s.</summary>
    public IReadOnlyList<int> EosTokenIds => [.. Config.EosTokenIds.Concat(Generation.EosTokenIds).Distinct().Order()];

    /// <summary>The variants whose files are present, in <see cref="ModelVariants.CpuPreference"/> order.</summary>
    public static IReadOnlyList<ModelVariant> AvailableVariants(string directory) =>
        [.. ModelVariants.CpuPreference.Where(v => FindGraph(Path.Combine(directory, "onnx"), v) is not null)];

    /// <summary>
    /// Loads and validates a model folder. <paramref name="variant"/> null picks the first present of q4, int8, fp32, fp16.
    /// </summary>
    /// <exception cref="ModelFolderException">A file is missing or unreadable, or the model type is not supported; the message says which.</exception>
    public static ModelFolder Load(string directory, ModelVariant? variant = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new ModelFolderException($"Model folder '{dir}' does not exist.");
        }

        var config = ModelConfig.Load(Path.Combine(dir, "config.json"));
        var generation = GenerationConfig.Load(Path.Combine(dir, "generation_config.json"));

        var hasTokenizerJson = File.Exists(Path.Combine(dir, "tokenizer.json"));
        var hasVocabMerges = File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt"));
        if (!hasTokenizerJson && !hasVocabMerges)
        {
            throw new ModelFolderException($"Model folder '{dir}' has no tokenizer: expected tokenizer.json (or vocab.json with merges.txt).");
        }

        var onnxDir = Path.Combine(dir, "onnx");
        if (!System.IO.Directory.Exists(onnxDir))
        {
            throw new ModelFolderException($"Model folder '{dir}' has no onnx/ folder with model.onnx, model_q4.onnx, model_int8.onnx or model_fp16.onnx.");
        }

        ModelVariant chosen;
        string graph;
        if (variant is { } wanted)
        {
            graph = FindGraph(onnxDir, wanted)
                ?? throw new ModelFolderException(
                    $"Model folder '{dir}' has no {wanted.Name()} variant (looked for onnx/{string.Join(".onnx, onnx/", wanted.FileStems())}.onnx); " +
                    $"present: {Describe(AvailableVariants(dir))}.");
            chosen = wanted;
        }
        else
        {
            var first = ModelVariants.CpuPreference.Select(v => (v, path: FindGraph(onnxDir, v))).FirstOrDefault(x => x.path is not null);
            graph = first.path ?? throw new ModelFolderException(
                $"Model folder '{dir}' has no ONNX decoder: expected onnx/model.onnx, model_q4.onnx, model_int8.onnx or model_fp16.onnx.");
            chosen = first.v;
        }

        var stem = Path.GetFileName(graph);
        var files = System.IO.Directory.GetFiles(onnxDir)
            .Where(f => Path.GetFileName(f) == stem || Path.GetFileName(f).StartsWith(stem + "_data", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

        var (template, templateSource, bos, eos) = ReadTokenizerConfig(dir);
        return new ModelFolder(dir, config, generation, chosen, graph, files, template, templateSource, bos, eos);
    }

    private static string Describe(IReadOnlyList<ModelVariant> variants) =>
        variants.Count == 0 ? "none" : string.Join(", ", variants.Select(v => v.Name()));

    private static string? FindGraph(string onnxDir, ModelVariant variant) =>
        variant.FileStems().Select(s => Path.Combine(onnxDir, s + ".onnx")).FirstOrDefault(File.Exists);

    private static (string? Template, string? Source, string? Bos, string? Eos) ReadTokenizerConfig(string dir)
    {
        string? template = null, source = null, bos = null, eos = null;
        var configPath = Path.Combine(dir, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var doc = JsonConfigReader.ParseFile(configPath);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                bos = TokenText(root, "bos_token");
                eos = TokenText(root, "eos_token");
                if (root.TryGetProperty("chat_template", out var ct))
                {
                    template = ct.ValueKind switch
                    {
                        JsonValueKind.String => ct.GetString(),
                        // A list of named templates: the "default" one is the chat template.
                        JsonValueKind.Array => ct.EnumerateArray()
                            .Where(e => e.ValueKind == JsonValueKind.Object && JsonConfigReader.String(e, "name") == "default")
                            .Select(e => JsonConfigReader.String(e, "template"))
                            .FirstOrDefault(),
                        _ => null,
                    };
                    source = template is null ? null : "tokenizer_config.json";
                }
            }
        }

        var jinja = Path.Combine(dir, "chat_template.jinja");
        if (template is null && File.Exists(jinja))
        {
            template = File.ReadAllText(jinja);
            source = "chat_template.jinja";
        }

        return (template, source, bos, eos);
    }

    private static string? TokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object => JsonConfigReader.String(v, "content"),
            _ => null,
        };
    }
}
