namespace Capa.Models.Config;

/// <summary>The decoder families the local engine runs. Anything else is refused when a folder is loaded.</summary>
public enum ModelFamily
{
    /// <summary>Qwen2 and Qwen2.5 (<c>model_type</c> <c>qwen2</c>).</summary>
    Qwen2,

    /// <summary>Qwen3 (<c>model_type</c> <c>qwen3</c>).</summary>
    Qwen3,

    /// <summary>Llama 3.x and SmolLM2 (<c>model_type</c> <c>llama</c>).</summary>
    Llama,

    /// <summary>Phi-3 and Phi-3.5 (<c>model_type</c> <c>phi3</c>).</summary>
    Phi3,

    /// <summary>Gemma 2 (<c>model_type</c> <c>gemma2</c>).</summary>
    Gemma2,

    /// <summary>Gemma 3 text decoders (<c>model_type</c> <c>gemma3_text</c> or <c>gemma3</c>).</summary>
    Gemma3,
}

/// <summary>Maps <c>config.json</c>'s <c>model_type</c> to a <see cref="ModelFamily"/>.</summary>
public static class ModelFamilies
{
    /// <summary>The <c>model_type</c> values accepted, for error messages.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } =
        ["qwen2", "qwen3", "llama", "phi3", "gemma2", "gemma3_text", "gemma3"];

    /// <summary>Returns the family of a <c>model_type</c>, or <see langword="null"/> when it is not supported.</summary>
    public static ModelFamily? FromModelType(string? modelType) => modelType?.ToLowerInvariant() switch
    {
        "qwen2" => ModelFamily.Qwen2,
        "qwen3" => ModelFamily.Qwen3,
        "llama" => ModelFamily.Llama,
        "phi3" => ModelFamily.Phi3,
        "gemma2" => ModelFamily.Gemma2,
        "gemma3_text" or "gemma3" => ModelFamily.Gemma3,
        _ => null,
    };

    /// <summary>The lower-case family name used by templates and model cards (qwen2, qwen3, llama, phi3, gemma2, gemma3).</summary>
    public static string Name(this ModelFamily family) => family switch
    {
        ModelFamily.Qwen2 => "qwen2",
        ModelFamily.Qwen3 => "qwen3",
        ModelFamily.Llama => "llama",
        ModelFamily.Phi3 => "phi3",
        ModelFamily.Gemma2 => "gemma2",
        ModelFamily.Gemma3 => "gemma3",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };
}
