using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using static Capa.Protocol.JsonRules;

namespace Capa.Protocol.Images;

/// <summary>An uploaded file of a multipart image request.</summary>
public sealed record ImageUpload
{
    /// <summary>The file's bytes.</summary>
    public required ReadOnlyMemory<byte> Bytes { get; init; }

    /// <summary>The file name the client sent.</summary>
    public string? FileName { get; init; }
}

/// <summary>A validated <c>POST /v1/images/edits</c> or <c>/variations</c> request.</summary>
public sealed record ImageEditRequest
{
    /// <summary>The generation parameters (prompt empty for variations).</summary>
    public required ImageGenerationRequest Generation { get; init; }

    /// <summary>The input images (one for dall-e-2 and variations).</summary>
    public required IReadOnlyList<ImageUpload> Images { get; init; }

    /// <summary>The optional PNG mask: where its alpha is 0 the image is repainted.</summary>
    public ImageUpload? Mask { get; init; }

    /// <summary>Whether this is a variation (no prompt).</summary>
    public bool IsVariation { get; init; }
}

/// <summary>
/// Reads and validates the multipart fields and files of <c>/v1/images/edits</c> and <c>/v1/images/variations</c> with
/// OpenAI's rules: dall-e-2 takes one square PNG under 4 MB; the GPT image models up to 16 PNG, WebP or JPEG files under
/// 50 MB each; the mask is a PNG of the image's size.
/// </summary>
public static class ImageEditRequestReader
{
    /// <summary>Largest image of dall-e-2 (and variations).</summary>
    public const long DallE2MaxBytes = 4L * 1024 * 1024;

    /// <summary>Largest image of the GPT image models.</summary>
    public const long GptImageMaxBytes = 50L * 1024 * 1024;

    /// <summary>Most images of one GPT image edit.</summary>
    public const int MaxImages = 16;

    /// <summary>Reads the form. <paramref name="fields"/> holds the text fields; images come from the <c>image</c> or <c>image[]</c> parts.</summary>
    public static bool TryRead(
        IReadOnlyDictionary<string, IReadOnlyList<string>> fields,
        IReadOnlyList<ImageUpload> images,
        ImageUpload? mask,
        bool variation,
        [NotNullWhen(true)] out ImageEditRequest? request,
        [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(images);
        request = null;
        try
        {
            var read = ReadFields(fields, variation);
            var generation = ImageRequestRules.Apply(read, requirePrompt: !variation, variations: variation);
            if (images.Count == 0)
            {
                throw Missing("image");
            }

            bool gpt = generation.Family == ImageModelFamily.GptImage;
            if (images.Count > (gpt ? MaxImages : 1))
            {
                throw gpt
                    ? ArrayTooLong("image", MaxImages, images.Count)
                    : Reject($"Invalid 'image': the model {generation.Model} takes one image.", "image", "invalid_value");
            }

            long maxBytes = gpt ? GptImageMaxBytes : DallE2MaxBytes;
            (int Width, int Height)? first = null;
            foreach (ImageUpload image in images)
            {
                if (image.Bytes.Length > maxBytes)
                {
                    throw Reject(
                        $"Invalid input image - image must be less than {maxBytes / (1024 * 1024)} MB, got {image.Bytes.Length.ToString(CultureInfo.InvariantCulture)} bytes.",
                        "image",
                        "image_too_large");
                }

                ImageFileKind kind = ImageFiles.Sniff(image.Bytes.Span);
                if (kind == ImageFileKind.Unknown || (!gpt && kind != ImageFileKind.Png))
                {
                    throw Reject(
                        gpt
                            ? "Invalid image file or mode for image 1, please check your image file."
                            : "Invalid input image - format must be in ['RGBA', 'LA', 'L'], got an image that is not a PNG.",
                        "image",
                        "invalid_image_format");
                }

                if (!gpt && ImageFiles.TryReadPngSize(image.Bytes.Span, out int w, out int h))
                {
                    if (w != h)
                    {
                        throw Reject("Invalid input image - image must be square.", "image", "invalid_image");
                    }

                    first ??= (w, h);
                }
            }

            if (mask is not null)
            {
                if (!ImageFiles.TryReadPngSize(mask.Bytes.Span, out int mw, out int mh))
                {
                    throw Reject("Invalid mask image - format must be PNG with an alpha channel.", "mask", "invalid_image_format");
                }

                if (mask.Bytes.Length > maxBytes)
                {
                    throw Reject($"Invalid mask image - image must be less than {maxBytes / (1024 * 1024)} MB.", "mask", "image_too_large");
                }

                if (ImageFiles.TryReadPngSize(images[0].Bytes.Span, out int iw, out int ih) && (iw != mw || ih != mh))
                {
                    throw Reject("Invalid mask image - the mask and the image must have the same dimensions.", "mask", "invalid_image");
                }
            }

            request = new ImageEditRequest { Generation = generation, Images = images, Mask = mask, IsVariation = variation };
            error = null;
            return true;
        }
        catch (RequestRejectedException rejected)
        {
            error = rejected.Error;
            return false;
        }
    }

    private static ImageRequestRules.Fields ReadFields(IReadOnlyDictionary<string, IReadOnlyList<string>> fields, bool variation)
    {
        var read = new ImageRequestRules.Fields();
        foreach (var (name, values) in fields)
        {
            string value = values.Count > 0 ? values[^1] : "";
            switch (name)
            {
                case "prompt" when !variation:
                    read.PromptPresent = true;
                    read.Prompt = value;
                    break;
                case "model":
                    read.Model = value;
                    break;
                case "n":
                    read.N = (int)Integer(name, value, 1, 10);
                    break;
                case "size":
                    read.Size = value;
                    break;
                case "quality" when !variation:
                    read.Quality = value;
                    break;
                case "response_format":
                    read.ResponseFormat = Enum(name, value, ImageRequestRules.ResponseFormats);
                    break;
                case "output_format" when !variation:
                    read.OutputFormat = Enum(name, value, ImageRequestRules.OutputFormats);
                    break;
                case "output_compression" when !variation:
                    read.OutputCompression = (int)Integer(name, value, 0, 100);
                    break;
                case "background" when !variation:
                    read.Background = Enum(name, value, ImageRequestRules.Backgrounds);
                    break;
                case "stream" when !variation:
                    read.Stream = value switch
                    {
                        "true" => true,
                        "false" => false,
                        _ => throw Reject($"Invalid type for 'stream': expected a boolean, but got '{Shorten(value)}' instead.", "stream", "invalid_type"),
                    };
                    break;
                case "partial_images" when !variation:
                    read.PartialImages = (int)Integer(name, value, 0, 3);
                    break;
                case "user":
                    read.User = value;
                    break;
                case "seed":
                    read.Seed = (ulong)Integer(name, value, 0, long.MaxValue);
                    break;
                case "negative_prompt" when !variation:
                    read.NegativePrompt = value;
                    break;
                default:
                    break;
            }
        }

        return read;
    }

    private static long Integer(string name, string value, long min, long max)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
        {
            throw Reject($"Invalid type for '{name}': expected an integer, but got '{Shorten(value)}' instead.", name, "invalid_type");
        }

        if (number < min)
        {
            throw Reject($"Invalid '{name}': integer below minimum value. Expected a value >= {min}, but got {number} instead.", name, "integer_below_min_value");
        }

        if (number > max)
        {
            throw Reject($"Invalid '{name}': integer above maximum value. Expected a value <= {max}, but got {number} instead.", name, "integer_above_max_value");
        }

        return number;
    }

    private static string Enum(string name, string value, IReadOnlyList<string> supported) =>
        supported.Contains(value, StringComparer.Ordinal) ? value : throw InvalidValue(name, value, supported);
}

/// <summary>Image container formats recognised from their first bytes.</summary>
public enum ImageFileKind
{
    Unknown,
    Png,
    Jpeg,
    Webp,
}

/// <summary>Recognises image files from their signatures.</summary>
public static class ImageFiles
{
    /// <summary>The container of <paramref name="bytes"/>.</summary>
    public static ImageFileKind Sniff(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 8 && bytes[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ImageFileKind.Png;
        }

        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            return ImageFileKind.Jpeg;
        }

        return bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8)
            ? ImageFileKind.Webp
            : ImageFileKind.Unknown;
    }

    /// <summary>A PNG's width and height from its IHDR chunk.</summary>
    public static bool TryReadPngSize(ReadOnlySpan<byte> bytes, out int width, out int height)
    {
        width = height = 0;
        if (Sniff(bytes) != ImageFileKind.Png || bytes.Length < 24 || !bytes[12..16].SequenceEqual("IHDR"u8))
        {
            return false;
        }

        width = BinaryPrimitives.ReadInt32BigEndian(bytes[16..20]);
        height = BinaryPrimitives.ReadInt32BigEndian(bytes[20..24]);
        return width > 0 && height > 0;
    }
}
