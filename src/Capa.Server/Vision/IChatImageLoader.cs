using Capa.Media.Images;
using Capa.Protocol;

namespace Capa.Server.Vision;

/// <summary>
/// One image of a chat request, in order of appearance. <paramref name="Param"/> is the part's path,
/// <c>messages[i].content[j].image_url.url</c>; <paramref name="Detail"/> is <c>auto</c>, <c>low</c> or <c>high</c>;
/// <paramref name="ContentHash"/> is the lowercase hex SHA-256 of the encoded image bytes (a cache key for features).
/// </summary>
public sealed record ChatImage(string Param, RgbImage Image, string Detail, string ContentHash);

/// <summary>Turns the <c>image_url</c> parts of a chat request into decoded images, safely (see <see cref="VisionInputOptions"/>).</summary>
public interface IChatImageLoader
{
    /// <summary>
    /// Fetches and decodes every <c>image_url</c> part, in order of appearance (none: an empty list).
    /// </summary>
    /// <exception cref="Routing.ChatProviderException">A part cannot be used: a 400 in OpenAI's shape naming it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task<IReadOnlyList<ChatImage>> LoadAsync(ChatCompletionRequest request, CancellationToken cancellationToken);
}
