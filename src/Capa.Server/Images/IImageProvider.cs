using Capa.Engine.Images;
using Capa.Protocol.Images;
using Capa.Server.Routing;

namespace Capa.Server.Images;

/// <summary>One image job: the validated request, its seed, and for edits and variations the input image and mask.</summary>
public sealed record ImageCall
{
    /// <summary>The validated request (the prompt already revised where the model revises it).</summary>
    public required ImageGenerationRequest Request { get; init; }

    /// <summary>The seed of the first image; image <c>i</c> uses seed + i.</summary>
    public required ulong Seed { get; init; }

    /// <summary>The image to start from (edits, variations), decoded; null for generations.</summary>
    public RgbImage? InputImage { get; init; }

    /// <summary>The RGBA mask of an edit (transparent = repaint), decoded; null for none.</summary>
    public RgbImage? Mask { get; init; }

    /// <summary>Receives previews decoded from intermediate latents (streaming with <c>partial_images</c>).</summary>
    public Action<ImagePreview>? Preview { get; init; }
}

/// <summary>A preview of image <see cref="ImageIndex"/>, the <see cref="PartialIndex"/>-th of that image.</summary>
public sealed record ImagePreview(int ImageIndex, int PartialIndex, RgbImage Image);

/// <summary>The images of a job, at the requested size, and the prompt tokens the text encoder read.</summary>
public sealed record ImageOutcome(string Model, IReadOnlyList<RgbImage> Images, int TextTokens);

/// <summary>The job queue is full; the client should retry after <see cref="RetryAfterSeconds"/>.</summary>
public sealed class ImageQueueFullException(int retryAfterSeconds) : Exception("The image queue is full.")
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}

/// <summary>
/// A source of images for the image endpoints (the local diffusion pipelines). Its models carry
/// <see cref="ModelCapabilities.Image"/>, so the router resolves OpenAI's image ids to them.
/// </summary>
public interface IImageProvider : IModelProvider
{
    /// <summary>Whether this provider serves <paramref name="model"/> (an OpenAI alias or a model's own id).</summary>
    Task<bool> ServesAsync(string model, CancellationToken cancellationToken);

    /// <summary>Whether the model can take input images (edits, variations).</summary>
    bool CanEdit(string model);

    /// <summary>Whether the model's images can be given a transparent background (a background-removal model is there).</summary>
    bool CanMakeTransparent(string model);

    /// <summary>Makes the call's images.</summary>
    /// <exception cref="ImageQueueFullException">Too many jobs are waiting.</exception>
    /// <exception cref="OperationCanceledException">The client went away; the job stopped between steps.</exception>
    Task<ImageOutcome> GenerateAsync(ImageCall call, CancellationToken cancellationToken);
}
