using System.Text.Json.Serialization;

namespace Capa.Protocol.Images;

/// <summary>One image of a response: a URL or base64 bytes, and dall-e-3's revised prompt.</summary>
public sealed record ImageData
{
    /// <summary>The image, base64-encoded.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? B64Json { get; init; }

    /// <summary>Where the image can be fetched (60 minutes).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Url { get; init; }

    /// <summary>The prompt the image was made from (dall-e-3).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RevisedPrompt { get; init; }
}

/// <summary>Token counts of the GPT image models' <c>input_tokens_details</c>.</summary>
public sealed record ImageInputTokensDetails
{
    public required int TextTokens { get; init; }

    public required int ImageTokens { get; init; }
}

/// <summary><c>usage</c> of the GPT image models.</summary>
public sealed record ImagesUsage
{
    public required int TotalTokens { get; init; }

    public required int InputTokens { get; init; }

    public required int OutputTokens { get; init; }

    public required ImageInputTokensDetails InputTokensDetails { get; init; }

    /// <summary>Usage from the prompt's token count and the images made, billed as OpenAI bills image tokens (one per 32x32 tile).</summary>
    public static ImagesUsage For(int textTokens, int inputImageTokens, int width, int height, int images)
    {
        int output = checked(images * ((width + 31) / 32) * ((height + 31) / 32));
        return new ImagesUsage
        {
            InputTokens = textTokens + inputImageTokens,
            OutputTokens = output,
            TotalTokens = textTokens + inputImageTokens + output,
            InputTokensDetails = new ImageInputTokensDetails { TextTokens = textTokens, ImageTokens = inputImageTokens },
        };
    }
}

/// <summary>The response of <c>/v1/images/generations</c>, <c>/edits</c> and <c>/variations</c>.</summary>
public sealed record ImagesResponse
{
    /// <summary>Unix seconds.</summary>
    public required long Created { get; init; }

    public required IReadOnlyList<ImageData> Data { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Background { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OutputFormat { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Size { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Quality { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ImagesUsage? Usage { get; init; }
}

/// <summary><c>image_generation.partial_image</c> (and <c>image_edit.partial_image</c>): a preview while the image is made.</summary>
public sealed record ImagePartialEvent
{
    /// <summary><c>image_generation.partial_image</c> or <c>image_edit.partial_image</c>.</summary>
    public required string Type { get; init; }

    public required string B64Json { get; init; }

    public required string Background { get; init; }

    public required long CreatedAt { get; init; }

    public required string OutputFormat { get; init; }

    public required int PartialImageIndex { get; init; }

    public required string Quality { get; init; }

    public required string Size { get; init; }
}

/// <summary><c>image_generation.completed</c> (and <c>image_edit.completed</c>): the final image.</summary>
public sealed record ImageCompletedEvent
{
    /// <summary><c>image_generation.completed</c> or <c>image_edit.completed</c>.</summary>
    public required string Type { get; init; }

    public required string B64Json { get; init; }

    public required string Background { get; init; }

    public required long CreatedAt { get; init; }

    public required string OutputFormat { get; init; }

    public required string Quality { get; init; }

    public required string Size { get; init; }

    public required ImagesUsage Usage { get; init; }
}

/// <summary>Source-generated JSON for the image wire types (snake_case, as the spec).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(ImagesResponse))]
[JsonSerializable(typeof(ImagePartialEvent))]
[JsonSerializable(typeof(ImageCompletedEvent))]
public sealed partial class ImagesJsonContext : JsonSerializerContext;
