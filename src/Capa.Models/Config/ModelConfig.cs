using System.Text.Json;

namespace Capa.Models.Config;

/// <summary>The fields of a model folder's <c>config.json</c> that the engine uses.</summary>
public sealed record ModelConfig
{
    /// <summary>The raw <c>model_type</c>.</summary>
    public required string ModelType { get; init; }

    /// <summary>The family <see cref="ModelType"/> maps to.</summary>
    public required ModelFamily Family { get; init; }

    /// <summary>Rows of the model's output projection (<c>vocab_size</c>); may exceed the tokenizer's vocabulary.</summary>
    public required int VocabSize { get; init; }

    /// <summary><c>num_hidden_layers</c>, when given.</summary>
    public int? NumHiddenLayers { get; init; }

    /// <summary><c>num_attention_heads</c>, when given.</summary>
    public int? NumAttentionHeads { get; init; }

    /// <summary><c>num_key_value_heads</c>, when given (defaults to the attention heads in the graph).</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary><c>head_dim</c>, or hidden size over attention heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary>The longest sequence (prompt plus completion) the model accepts: <c>max_position_embeddings</c>,
    /// bounded by <c>sliding_window</c> for families whose every layer uses it.</summary>
    public required int MaxContextLength { get; init; }

    /// <summary>End-of-sequence ids named by <c>config.json</c>.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary><c>bos_token_id</c>, when given.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>Reads <c>config.json</c>; refuses an unsupported <c>model_type</c> with a message listing the supported ones.</summary>
    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFolderException($"The model folder has no config.json (looked for '{path}').");
        }

        using var doc = JsonConfigReader.ParseFile(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFolderException($"'{path}' must hold a JSON object.");
        }

        // Multimodal Gemma 3 configs nest the decoder's fields under text_config.
        var text = root.TryGetProperty("text_config", out var tc) && tc.ValueKind == JsonValueKind.Object ? tc : root;
        var modelType = JsonConfigReader.String(root, "model_type")
            ?? throw new ModelFolderException($"'{path}' has no model_type; supported model types: {string.Join(", ", ModelFamilies.SupportedModelTypes)}.");
        var family = ModelFamilies.FromModelType(modelType)
            ?? throw new ModelFolderException(
                $"Model type '{modelType}' (in '{path}') is not supported; supported model types: {string.Join(", ", ModelFamilies.SupportedModelTypes)}.");

        var vocab = JsonConfigReader.Int(text, "vocab_size") ?? JsonConfigReader.Int(root, "vocab_size")
            ?? throw new ModelFolderException($"'{path}' has no vocab_size.");
        var maxPos = JsonConfigReader.Int(text, "max_position_embeddings") ?? JsonConfigReader.Int(root, "max_position_embeddings")
            ?? throw new ModelFolderException($"'{path}' has no max_position_embeddings.");
        var heads = JsonConfigReader.Int(text, "num_attention_heads");
        var hidden = JsonConfigReader.Int(text, "hidden_size");
        var headDim = JsonConfigReader.Int(text, "head_dim") ?? (hidden is { } h && heads is > 0 ? h / heads : null);

        var eos = JsonConfigReader.IntOrList(text, "eos_token_id");
        if (eos.Count == 0)
        {
            eos = JsonConfigReader.IntOrList(root, "eos_token_id");
        }

        return new ModelConfig
        {
            ModelType = modelType,
            Family = family,
            VocabSize = vocab,
            NumHiddenLayers = JsonConfigReader.Int(text, "num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = JsonConfigReader.Int(text, "num_key_value_heads") ?? heads,
            HeadDim = headDim,
            MaxContextLength = maxPos,
            EosTokenIds = eos,
            BosTokenId = JsonConfigReader.Int(text, "bos_token_id") ?? JsonConfigReader.Int(root, "bos_token_id"),
        };
    }
}
