namespace Capa.Protocol.Images;

/// <summary>How a DALL·E-style response carries its images.</summary>
public enum ImageResponseFormat
{
    /// <summary>A URL served by this server, valid 60 minutes (DALL·E's default).</summary>
    Url,

    /// <summary>The image base64-encoded in the JSON (always so for the GPT image models).</summary>
    B64Json,
}

/// <summary>A validated <c>POST /v1/images/generations</c> request.</summary>
public sealed record ImageGenerationRequest
{
    /// <summary>The model id as sent (or the default the request implied).</summary>
    public required string Model { get; init; }

    /// <summary>The rule set the model follows.</summary>
    public required ImageModelFamily Family { get; init; }

    /// <summary>The prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>Images to make, 1–10.</summary>
    public int N { get; init; } = 1;

    /// <summary>The size as sent (<c>auto</c> possible), or the model's default.</summary>
    public required string Size { get; init; }

    /// <summary>Width in pixels of each image.</summary>
    public required int Width { get; init; }

    /// <summary>Height in pixels of each image.</summary>
    public required int Height { get; init; }

    /// <summary>The quality as sent, or the model's default (<c>standard</c>, <c>auto</c>).</summary>
    public required string Quality { get; init; }

    /// <summary>dall-e-3's style (<c>vivid</c> or <c>natural</c>), else null.</summary>
    public string? Style { get; init; }

    /// <summary>url or b64_json (GPT image models: always b64_json).</summary>
    public ImageResponseFormat ResponseFormat { get; init; } = ImageResponseFormat.Url;

    /// <summary>png, jpeg or webp (GPT image models; png for others).</summary>
    public string OutputFormat { get; init; } = "png";

    /// <summary>0–100 for jpeg and webp; null for the encoder's default.</summary>
    public int? OutputCompression { get; init; }

    /// <summary>transparent, opaque or auto (GPT image models).</summary>
    public string? Background { get; init; }

    /// <summary>Whether to stream <c>image_generation.*</c> events (GPT image models).</summary>
    public bool Stream { get; init; }

    /// <summary>Partial images to stream before the final one, 0–3.</summary>
    public int PartialImages { get; init; }

    /// <summary>The end-user id, as sent.</summary>
    public string? User { get; init; }

    /// <summary>Extension: a seed that makes the generation byte-reproducible.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Extension: what the image should not show (classifier-free guidance's negative prompt).</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>Whether the response follows the GPT image models' shape (b64_json, usage, size, quality, output_format).</summary>
    public bool IsGptImage => Family == ImageModelFamily.GptImage;
}
