using System.Globalization;
using System.Security.Cryptography;
using Capa.Media.Images;
using Capa.Protocol;
using Capa.Server.Routing;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Vision;

/// <summary>
/// Loads the images of a chat request: inline <c>data:</c> URLs and, where allowed, downloads through
/// <see cref="ImageFetcher"/>; then decodes them with <see cref="ImageDecoder"/>. Limits apply in this order: the
/// number of images (before anything is fetched), the bytes of each image and of the request (while streaming), the
/// time for the request's downloads, the pixels of each image (from its header). Every failure is OpenAI's 400
/// naming the part; images are loaded one after another, so the first bad part in request order is the one reported.
/// </summary>
internal sealed class ChatImageLoader : IChatImageLoader, IDisposable
{
    /// <summary>OpenAI's text for bytes that are not PNG, JPEG, GIF or WebP.</summary>
    public const string UnsupportedFormatMessage =
        "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].";

    /// <summary>OpenAI's text for bytes that look like an image format but do not decode.</summary>
    public const string InvalidImageMessage = "The image data you provided does not represent a valid image.";

    // URLs are echoed in errors as OpenAI does, but a pathological one is shortened.
    private const int MaxEchoedUrl = 1000;

    private readonly VisionInputOptions _options;
    private readonly ImageFetcher _fetcher;
    private readonly ILogger _logger;

    public ChatImageLoader(VisionInputOptions options, ILogger<ChatImageLoader> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
        _fetcher = new ImageFetcher(options, logger);
    }

    public async Task<IReadOnlyList<ChatImage>> LoadAsync(ChatCompletionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parts = new List<(string Param, ChatImageUrl Image)>();
        for (var i = 0; i < request.Messages.Count; i++)
        {
            var content = request.Messages[i].Content?.Parts ?? [];
            for (var j = 0; j < content.Count; j++)
            {
                if (content[j].Type == ChatContentPartTypes.ImageUrl && content[j].ImageUrl is { } image)
                {
                    parts.Add(($"messages[{i}].content[{j}].image_url.url", image));
                }
            }
        }

        if (parts.Count == 0)
        {
            return [];
        }

        if (parts.Count > _options.MaxImages)
        {
            throw Refuse(
                $"This request has {parts.Count} images; this server accepts at most {_options.MaxImages} images per request.",
                parts[_options.MaxImages].Param,
                "too_many_images");
        }

        // One deadline for all the downloads of the request, so that many slow URLs cannot add up to a hang.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var images = new List<ChatImage>(parts.Count);
        long used = 0;
        foreach (var (param, part) in parts)
        {
            var bytes = await ReadBytesAsync(param, part.Url, used, deadline.Token, cancellationToken).ConfigureAwait(false);
            used += bytes.Length;
            var decoded = ImageDecoder.Decode(bytes, _options.MaxImagePixels);
            if (!decoded.Succeeded)
            {
                VisionLog.NotLoaded(_logger, param, decoded.Error.ToString(), decoded.Detail);
                throw decoded.Error switch
                {
                    ImageDecodeError.UnsupportedFormat => Refuse(UnsupportedFormatMessage, param, "invalid_image_format"),
                    ImageDecodeError.TooManyPixels => Refuse(
                        $"The image is {decoded.Width}x{decoded.Height} pixels; this server accepts at most {_options.MaxImagePixels.ToString(CultureInfo.InvariantCulture)} pixels per image.",
                        param,
                        "image_too_large"),
                    _ => Refuse(InvalidImageMessage, param, "invalid_image"),
                };
            }

            VisionLog.Loaded(_logger, param, decoded.Format?.ToString() ?? "", decoded.Image.Width, decoded.Image.Height, bytes.Length);
            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            images.Add(new ChatImage(param, decoded.Image, part.Detail ?? "auto", hash));
        }

        return images;
    }

    public void Dispose() => _fetcher.Dispose();

    private static ChatProviderException Refuse(string message, string param, string code) =>
        new(ApiError.InvalidRequest(message, param, code));

    private static string Echo(string url) => url.Length <= MaxEchoedUrl ? url : string.Concat(url.AsSpan(0, MaxEchoedUrl), "…");

    private static string Size(long bytes) => bytes % (1L << 20) == 0
        ? $"{(bytes >> 20).ToString(CultureInfo.InvariantCulture)} MiB"
        : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes";

    /// <summary>The encoded bytes of one part, within the per-image cap and what is left of the request's.</summary>
    private async Task<byte[]> ReadBytesAsync(string param, string url, long used, CancellationToken deadline, CancellationToken aborted)
    {
        var left = _options.MaxRequestImageBytes - used;
        var cap = Math.Min(_options.MaxImageBytes, left);
        ChatProviderException TooLarge(string what)
        {
            VisionLog.NotLoaded(_logger, param, "TooLarge", what);
            return left < _options.MaxImageBytes
                ? Refuse(
                    $"The images of this request are larger than {Size(_options.MaxRequestImageBytes)} in all, the most this server accepts per request.",
                    param,
                    "image_too_large")
                : Refuse($"The image is larger than {Size(_options.MaxImageBytes)}, the most this server accepts per image.", param, "image_too_large");
        }

        if (DataUrl.IsDataUrl(url))
        {
            if (!DataUrl.TryParseHeader(url, out var start, out _, out var problem))
            {
                throw Refuse(
                    $"Invalid image URL: the data: URL is not one this server reads ({problem}). Send 'data:image/<format>;base64,<data>'.",
                    param,
                    "invalid_image_url");
            }

            if (!DataUrl.TryDecode(url.AsSpan(start), cap, out var inline, out var tooLarge))
            {
                throw tooLarge ? TooLarge("the data: URL is over the cap") : Refuse(InvalidImageMessage, param, "invalid_image");
            }

            return inline;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw Refuse($"Invalid image URL: '{Echo(url)}' is neither an https: URL nor a base64 data: URL.", param, "invalid_image_url");
        }

        FetchResult result;
        try
        {
            result = await _fetcher.FetchAsync(uri, cap, deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            result = FetchResult.Fail(FetchFailure.Timeout, $"the request's downloads took over {_options.Timeout.TotalSeconds:0.#} s");
        }

        if (result.Bytes is { } bytes)
        {
            return bytes;
        }

        VisionLog.NotLoaded(_logger, param, result.Failure.ToString(), result.Detail);
        var downloading = $"Error while downloading {Echo(url)}.";
        throw result.Failure switch
        {
            FetchFailure.Timeout => Refuse($"Timeout while downloading {Echo(url)}.", param, "invalid_image_url"),
            FetchFailure.TooLarge => TooLarge(result.Detail),
            FetchFailure.FetchingDisabled => Refuse(
                downloading + " This server does not fetch image URLs; send the image inline as a base64 data: URL.", param, "invalid_image_url"),
            FetchFailure.SchemeNotAllowed => Refuse(
                downloading + (_options.AllowHttp
                    ? " Only http: and https: image URLs are fetched, or send a base64 data: URL."
                    : " Only https: image URLs are fetched, or send a base64 data: URL."),
                param,
                "invalid_image_url"),
            FetchFailure.DomainNotAllowed => Refuse(
                downloading + " Its host is not on this server's list of allowed image domains.", param, "invalid_image_url"),

            // Address refusals, HTTP errors and network failures read alike, so that the answers do not map the
            // server's network for a client.
            _ => Refuse(downloading, param, "invalid_image_url"),
        };
    }
}
