using System.Globalization;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Images;

/// <summary>
/// OpenAI's per-model rules shared by generations, edits and variations, with its error texts: size, n, prompt length,
/// quality, style, and which parameters a model family does not know.
/// </summary>
internal static class ImageRequestRules
{
    public static readonly string[] ResponseFormats = ["url", "b64_json"];
    public static readonly string[] OutputFormats = ["png", "jpeg", "webp"];
    public static readonly string[] Backgrounds = ["transparent", "opaque", "auto"];
    public static readonly string[] Styles = ["vivid", "natural"];
    public static readonly string[] Moderations = ["low", "auto"];

    /// <summary>The fields of a request as read, before the model's rules are applied.</summary>
    public sealed class Fields
    {
        public string? Model { get; set; }

        public string? Prompt { get; set; }

        public bool PromptPresent { get; set; }

        public int? N { get; set; }

        public string? Size { get; set; }

        public string? Quality { get; set; }

        public string? Style { get; set; }

        public string? ResponseFormat { get; set; }

        public string? OutputFormat { get; set; }

        public int? OutputCompression { get; set; }

        public string? Background { get; set; }

        public string? Moderation { get; set; }

        public bool? Stream { get; set; }

        public int? PartialImages { get; set; }

        public string? User { get; set; }

        public ulong? Seed { get; set; }

        public string? NegativePrompt { get; set; }

        /// <summary>Whether a parameter only the GPT image models know was sent (it makes them the default model).</summary>
        public bool HasGptOnlyParameter =>
            OutputFormat is not null || OutputCompression is not null || Background is not null || Moderation is not null
            || Stream is not null || PartialImages is not null;
    }

    public static string ModelOf(Fields fields) =>
        fields.Model ?? (fields.HasGptOnlyParameter ? ImageModels.DefaultGptImageModel : ImageModels.DefaultModel);

    /// <summary>Applies the model's rules; <paramref name="requirePrompt"/> is false for variations.</summary>
    public static ImageGenerationRequest Apply(Fields fields, bool requirePrompt, bool variations = false)
    {
        string model = ModelOf(fields);
        if (model.Length == 0)
        {
            throw Reject("Invalid 'model': empty string. Expected a model id.", "model", "invalid_value");
        }

        ImageModelFamily family = ImageModels.FamilyOf(model);
        if (variations && family is not (ImageModelFamily.DallE2 or ImageModelFamily.Other))
        {
            throw Reject($"Invalid value for 'model': '{Shorten(model)}'. Image variations are only supported by dall-e-2.", "model", "invalid_value");
        }

        string prompt = "";
        if (requirePrompt)
        {
            if (!fields.PromptPresent || fields.Prompt is null)
            {
                throw Missing("prompt");
            }

            prompt = fields.Prompt;
            if (prompt.Length == 0)
            {
                throw Reject(
                    "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead.",
                    "prompt",
                    "empty_string");
            }

            int maxPrompt = family switch
            {
                ImageModelFamily.DallE2 => ImageModels.DallE2MaxPrompt,
                ImageModelFamily.DallE3 => ImageModels.DallE3MaxPrompt,
                _ => ImageModels.GptImageMaxPrompt,
            };
            if (prompt.Length > maxPrompt)
            {
                throw family == ImageModelFamily.DallE2
                    ? Reject(
                        $"Prompt must be length {maxPrompt} or less. Your prompt length is {prompt.Length.ToString(CultureInfo.InvariantCulture)}. Please reduce your prompt length.",
                        "prompt",
                        "string_above_max_length")
                    : StringTooLong("prompt", maxPrompt, prompt.Length);
            }
        }

        int n = fields.N ?? 1;
        if (family == ImageModelFamily.DallE3 && n != 1)
        {
            throw Reject("You must provide n=1 for this model.", "n", "invalid_value");
        }

        bool gpt = family == ImageModelFamily.GptImage;
        if (gpt && fields.ResponseFormat is not null)
        {
            throw Unknown("response_format");
        }

        if (!gpt)
        {
            foreach (var (name, present) in new[]
            {
                ("output_format", fields.OutputFormat is not null),
                ("output_compression", fields.OutputCompression is not null),
                ("background", fields.Background is not null),
                ("moderation", fields.Moderation is not null),
                ("partial_images", fields.PartialImages is not null),
            })
            {
                // Other ids (local models) accept output_format and compression as an extension.
                if (present && (family != ImageModelFamily.Other || name is "moderation" or "partial_images" or "background"))
                {
                    throw Unknown(name);
                }
            }

            if (fields.Stream == true)
            {
                throw Reject("Streaming is only supported by the GPT image models.", "stream", "unsupported_value");
            }
        }

        if (fields.Style is not null && family is not (ImageModelFamily.DallE3 or ImageModelFamily.Other))
        {
            throw Unknown("style");
        }

        var (size, width, height) = ResolveSize(family, fields.Size);
        string quality = fields.Quality ?? (gpt ? "auto" : "standard");
        IReadOnlyList<string> qualities = ImageModels.QualitiesOf(family);
        if (!qualities.Contains(quality, StringComparer.Ordinal))
        {
            throw InvalidValue("quality", quality, qualities);
        }

        string outputFormat = fields.OutputFormat ?? "png";
        if (fields.OutputCompression is not null && outputFormat == "png" && gpt)
        {
            throw Reject("Invalid 'output_compression': compression is only supported for the jpeg and webp output formats.", "output_compression", "invalid_value");
        }

        if (fields.Background == "transparent" && outputFormat == "jpeg")
        {
            throw Reject("Transparent background is not supported for the jpeg output format. Use png or webp.", "background", "invalid_value");
        }

        if (fields.PartialImages is not null && fields.Stream != true)
        {
            throw Reject("'partial_images' requires 'stream' to be true.", "partial_images", "invalid_value");
        }

        return new ImageGenerationRequest
        {
            Model = model,
            Family = family,
            Prompt = prompt,
            N = n,
            Size = size,
            Width = width,
            Height = height,
            Quality = quality,
            Style = family == ImageModelFamily.DallE3 ? fields.Style ?? "vivid" : fields.Style,
            ResponseFormat = gpt || fields.ResponseFormat == "b64_json" ? ImageResponseFormat.B64Json : ImageResponseFormat.Url,
            OutputFormat = outputFormat,
            OutputCompression = fields.OutputCompression,
            Background = gpt ? fields.Background ?? "auto" : null,
            Stream = fields.Stream == true,
            PartialImages = fields.PartialImages ?? 0,
            User = fields.User,
            Seed = fields.Seed,
            NegativePrompt = fields.NegativePrompt,
        };
    }

    public static RequestRejectedException Unknown(string name) =>
        Reject($"Unknown parameter: '{name}'.", name, "unknown_parameter");

    public static RequestRejectedException InvalidSize() =>
        Reject("The size is not supported by this model.", "size", "invalid_size");

    private static (string Size, int Width, int Height) ResolveSize(ImageModelFamily family, string? size)
    {
        switch (family)
        {
            case ImageModelFamily.DallE2:
                size ??= "1024x1024";
                return ImageModels.DallE2Sizes.Contains(size, StringComparer.Ordinal) ? Parsed(size) : throw InvalidSize();
            case ImageModelFamily.DallE3:
                size ??= "1024x1024";
                return ImageModels.DallE3Sizes.Contains(size, StringComparer.Ordinal) ? Parsed(size) : throw InvalidSize();
            case ImageModelFamily.GptImage:
                size ??= "auto";
                if (size == "auto")
                {
                    return (size, 1024, 1024);
                }

                return ImageModels.GptImageSizes.Contains(size, StringComparer.Ordinal) ? Parsed(size) : throw InvalidSize();
            default:
                size ??= "1024x1024";
                if (size == "auto")
                {
                    return (size, 1024, 1024);
                }

                // Other models take any WxH a diffusion model can make: each side a multiple of 8 within bounds.
                if (ImageModels.TryParseSize(size, out int w, out int h)
                    && w is >= ImageModels.MinSide and <= ImageModels.MaxSide && h is >= ImageModels.MinSide and <= ImageModels.MaxSide
                    && w % 8 == 0 && h % 8 == 0)
                {
                    return (size, w, h);
                }

                throw InvalidSize();
        }
    }

    private static (string, int, int) Parsed(string size)
    {
        ImageModels.TryParseSize(size, out int w, out int h);
        return (size, w, h);
    }
}
