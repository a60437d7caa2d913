namespace Capa.Protocol.Images;

/// <summary>Which of OpenAI's rule sets a model id follows.</summary>
public enum ImageModelFamily
{
    /// <summary><c>dall-e-2</c>: square 256/512/1024, n 1–10, prompt ≤ 1000, url or b64_json.</summary>
    DallE2,

    /// <summary><c>dall-e-3</c>: 1024x1024, 1792x1024, 1024x1792, n = 1, quality standard|hd, style vivid|natural.</summary>
    DallE3,

    /// <summary>The GPT image models: 1024x1024, 1536x1024, 1024x1536 or auto, always b64_json, output_format and usage.</summary>
    GptImage,

    /// <summary>Any other id (a local model's own, or one an upstream serves): DALL·E's wire shape with any size a diffusion model can make.</summary>
    Other,
}

/// <summary>OpenAI's image model ids and the rules each follows.</summary>
public static class ImageModels
{
    /// <summary>The model used when a request names none and sends no GPT-image-only parameter (OpenAI's default).</summary>
    public const string DefaultModel = "dall-e-2";

    /// <summary>The model used when a request names none but sends a GPT-image-only parameter.</summary>
    public const string DefaultGptImageModel = "gpt-image-1";

    /// <summary>Every OpenAI image model id a local model may stand in for.</summary>
    public static IReadOnlyList<string> Aliases { get; } =
        ["dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "chatgpt-image-latest"];

    /// <summary>Sizes of dall-e-2.</summary>
    public static IReadOnlyList<string> DallE2Sizes { get; } = ["256x256", "512x512", "1024x1024"];

    /// <summary>Sizes of dall-e-3.</summary>
    public static IReadOnlyList<string> DallE3Sizes { get; } = ["1024x1024", "1792x1024", "1024x1792"];

    /// <summary>Sizes of the GPT image models (<c>auto</c> is 1024x1024 here).</summary>
    public static IReadOnlyList<string> GptImageSizes { get; } = ["1024x1024", "1536x1024", "1024x1536", "auto"];

    /// <summary>Longest prompt of dall-e-2.</summary>
    public const int DallE2MaxPrompt = 1000;

    /// <summary>Longest prompt of dall-e-3.</summary>
    public const int DallE3MaxPrompt = 4000;

    /// <summary>Longest prompt of the GPT image models (and of other models).</summary>
    public const int GptImageMaxPrompt = 32000;

    /// <summary>Smallest side of a free-form size (models other than OpenAI's).</summary>
    public const int MinSide = 64;

    /// <summary>Largest side of a free-form size (models other than OpenAI's).</summary>
    public const int MaxSide = 2048;

    /// <summary>The rule set of <paramref name="model"/>.</summary>
    public static ImageModelFamily FamilyOf(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (string.Equals(model, "dall-e-2", StringComparison.Ordinal))
        {
            return ImageModelFamily.DallE2;
        }

        if (string.Equals(model, "dall-e-3", StringComparison.Ordinal))
        {
            return ImageModelFamily.DallE3;
        }

        return model.StartsWith("gpt-image-", StringComparison.Ordinal) || string.Equals(model, "chatgpt-image-latest", StringComparison.Ordinal)
            ? ImageModelFamily.GptImage
            : ImageModelFamily.Other;
    }

    /// <summary>The quality values <paramref name="family"/> accepts.</summary>
    public static IReadOnlyList<string> QualitiesOf(ImageModelFamily family) => family switch
    {
        ImageModelFamily.DallE2 => ["standard"],
        ImageModelFamily.DallE3 => ["standard", "hd"],
        ImageModelFamily.GptImage => ["low", "medium", "high", "auto"],
        _ => ["standard", "hd", "low", "medium", "high", "auto"],
    };

    /// <summary>Whether <paramref name="quality"/> asks for the model's most careful rendering (more steps).</summary>
    public static bool IsHighQuality(string quality) => quality is "hd" or "high";

    /// <summary>Parses <c>WIDTHxHEIGHT</c>; false for anything else.</summary>
    public static bool TryParseSize(string size, out int width, out int height)
    {
        ArgumentNullException.ThrowIfNull(size);
        width = height = 0;
        int x = size.IndexOf('x', StringComparison.Ordinal);
        return x > 0
            && int.TryParse(size.AsSpan(0, x), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out width)
            && int.TryParse(size.AsSpan(x + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out height);
    }
}
