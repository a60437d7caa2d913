namespace Capa.Models.Config;

/// <summary>The sampling defaults of a model folder's <c>generation_config.json</c>.</summary>
public sealed record GenerationConfig
{
    /// <summary>No file: the engine's defaults (temperature 1, no truncation).</summary>
    public static GenerationConfig Default { get; } = new();

    /// <summary><c>do_sample</c>; when <see langword="false"/> the model's authors meant greedy decoding by default.</summary>
    public bool? DoSample { get; init; }

    /// <summary>Default temperature.</summary>
    public double? Temperature { get; init; }

    /// <summary>Default nucleus mass.</summary>
    public double? TopP { get; init; }

    /// <summary>Default top-k (0 = off). OpenAI's API has no top_k, so this is the only way it is set.</summary>
    public int? TopK { get; init; }

    /// <summary>Extra end-of-sequence ids.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Reads <c>generation_config.json</c>; a missing file gives <see cref="Default"/>.</summary>
    public static GenerationConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            return Default;
        }

        using var doc = JsonConfigReader.ParseFile(path);
        var root = doc.RootElement;
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            throw new ModelFolderException($"'{path}' must hold a JSON object.");
        }

        return new GenerationConfig
        {
            DoSample = JsonConfigReader.Bool(root, "do_sample"),
            Temperature = JsonConfigReader.Double(root, "temperature"),
            TopP = JsonConfigReader.Double(root, "top_p"),
            TopK = JsonConfigReader.Int(root, "top_k"),
            EosTokenIds = JsonConfigReader.IntOrList(root, "eos_token_id"),
        };
    }
}
