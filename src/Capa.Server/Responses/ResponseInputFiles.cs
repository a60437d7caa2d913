using System.Globalization;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Files;
using Capa.Server.VectorStores;
using Capa.Server.Vision;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Responses;

/// <summary>
/// Turns the file references of a response's input into what the model reads, leaving the stored input as sent: an
/// <c>input_image</c> naming an uploaded file becomes a <c>data:</c> URL of its bytes (so it is decoded, checked and
/// counted exactly as chat's images are, by the one image loader), and an <c>input_file</c> (an uploaded file, or
/// inline <c>file_data</c>, or a <c>file_url</c> downloaded by the image inputs' fetcher under the same network policy:
/// https only by default, no private addresses, redirects re-checked, byte cap and deadline) becomes an
/// <c>input_text</c> part with the file's text, extracted as file search extracts it (text formats, PDF, Word
/// <c>.docx</c>). Anything else is OpenAI's 400 naming the part's parameter.
/// </summary>
/// <param name="files">The Files store, when the server has one.</param>
/// <param name="vision">The image limits, and the policy for fetching URLs.</param>
/// <param name="maxStringLength">The longest string a request may carry: an uploaded image's data: URL must fit it.</param>
/// <param name="logger">Where download refusals and failures are logged.</param>
internal sealed class ResponseInputFiles(FileService? files, VisionInputOptions? vision, int maxStringLength, ILogger logger) : IDisposable
{
    // Longer URLs are cut in error messages.
    private const int MaxEchoedUrl = 256;

    // Media types of downloads, as the extensions the text extractor reads them by.
    private static readonly Dictionary<string, string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text/plain"] = ".txt",
        ["text/markdown"] = ".md",
        ["text/x-markdown"] = ".md",
        ["text/html"] = ".html",
        ["application/xhtml+xml"] = ".xhtml",
        ["application/json"] = ".json",
        ["text/csv"] = ".csv",
        ["text/tab-separated-values"] = ".tsv",
        ["text/xml"] = ".xml",
        ["application/xml"] = ".xml",
        ["application/pdf"] = ".pdf",
        ["application/vnd.openxmlformats-officedocument.wordprocessingml.document"] = ".docx",
        ["application/msword"] = ".doc",
        ["image/png"] = ".png",
        ["image/jpeg"] = ".jpg",
        ["image/gif"] = ".gif",
        ["image/webp"] = ".webp",
        ["application/zip"] = ".zip",
    };

    private readonly Lazy<ImageFetcher> _fetcher = new(() => new ImageFetcher(vision ?? new VisionInputOptions(), logger, "*/*"), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The largest file whose text an <c>input_file</c> part may carry.</summary>
    public const long MaxFileBytes = 32L << 20;

    // Purposes of uploads a response may read: images for vision, and the general ones for model inputs.
    private static readonly string[] ReadablePurposes = ["vision", "user_data", "assistants"];

    // Base64 is 4 characters for 3 bytes; 64 characters are left for the URL's header.
    private long MaxImageBytes => Math.Min(vision?.MaxImageBytes ?? VisionInputOptions.DefaultMaxImageBytes, (maxStringLength - 64L) / 4 * 3);

    /// <summary>Whether any message of <paramref name="items"/> has a part this class resolves.</summary>
    public static bool Needed(IReadOnlyList<ResponseItem> items) =>
        items.Any(i => i.Content?.Any(NeedsResolving) == true);

    /// <summary>
    /// The items with their file references resolved, or the error for the first one that cannot be; the items are
    /// returned as they are when there is nothing to resolve.
    /// </summary>
    /// <param name="items">The items, in order.</param>
    /// <param name="itemPath">The parameter naming item <c>i</c> in errors (<c>input[0]</c>), or null to name <paramref name="fallback"/>.</param>
    /// <param name="fallback">The parameter named for an item without a path (items of the earlier context).</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    public async Task<(IReadOnlyList<ResponseItem> Items, ApiError? Error)> ResolveAsync(IReadOnlyList<ResponseItem> items, Func<int, string>? itemPath, string fallback, CancellationToken cancellationToken)
    {
        if (!Needed(items))
        {
            return (items, null);
        }

        var resolved = new List<ResponseItem>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item.Content is not { } content || !content.Any(NeedsResolving))
            {
                resolved.Add(item);
                continue;
            }

            var parts = new List<ResponseContentPart>(content.Count);
            for (var j = 0; j < content.Count; j++)
            {
                if (!NeedsResolving(content[j]))
                {
                    parts.Add(content[j]);
                    continue;
                }

                var path = itemPath is null ? null : string.Create(CultureInfo.InvariantCulture, $"{itemPath(i)}.content[{j}]");
                var (part, error) = await ResolveAsync(content[j], path, fallback, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    return (items, error);
                }

                parts.Add(part!);
            }

            resolved.Add(item with { Content = parts });
        }

        return (resolved, null);
    }

    private static bool NeedsResolving(ResponseContentPart part) =>
        part.Type == ResponseContentTypes.InputFile || (part.Type == ResponseContentTypes.InputImage && part.ImageUrl is null);

    private async Task<(ResponseContentPart? Part, ApiError? Error)> ResolveAsync(ResponseContentPart part, string? path, string fallback, CancellationToken cancellationToken)
    {
        string Param(string member) => path is null ? fallback : path + "." + member;
        if (part.Type == ResponseContentTypes.InputImage)
        {
            var (file, bytes, error) = await ReadAsync(part.FileId!, Param("file_id"), MaxImageBytes, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return (null, error);
            }

            // The format is found from the bytes by the image loader; the declared type is only for its logs.
            var mediaType = Path.GetExtension(file!.Filename).TrimStart('.').ToLowerInvariant() is { Length: > 0 } extension ? "image/" + extension : "application/octet-stream";
            return (part with { ImageUrl = $"data:{mediaType};base64,{Convert.ToBase64String(bytes!)}" }, null);
        }

        string filename;
        byte[] content;
        string param;
        if (part.FileId is { } fileId)
        {
            param = Param("file_id");
            var (file, bytes, error) = await ReadAsync(fileId, param, MaxFileBytes, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return (null, error);
            }

            filename = file!.Filename;
            content = bytes!;
        }
        else if (part.FileData is { } data)
        {
            param = Param("file_data");
            filename = part.Filename!;
            var payload = data.AsSpan();
            if (DataUrl.IsDataUrl(data))
            {
                if (!DataUrl.TryParseHeader(data, out var start, out _, out var problem))
                {
                    return (null, ApiError.InvalidRequest($"Invalid file data: the data: URL is not one this server reads ({problem}). Send base64, or 'data:<media type>;base64,<data>'.", param, "invalid_value"));
                }

                payload = payload[start..];
            }

            if (!DataUrl.TryDecode(payload, MaxFileBytes, out var decoded, out var tooLarge))
            {
                return (null, tooLarge
                    ? ApiError.InvalidRequest($"The file is larger than {MaxFileBytes >> 20} MiB, the most this server reads from an input_file.", param, "file_too_large")
                    : ApiError.InvalidRequest("Invalid file data: it is not valid base64.", param, "invalid_value"));
            }

            content = decoded;
        }
        else
        {
            param = Param("file_url");
            var (name, bytes, error) = await DownloadAsync(part.FileUrl!, part.Filename, param, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                return (null, error);
            }

            filename = name!;
            content = bytes!;
        }

        var extracted = TextExtractor.Extract(filename, content);
        if (extracted.Text is { } text)
        {
            return (ResponseContentPart.InputText(text), null);
        }

        return (null, extracted.ErrorCode == "unsupported_file"
            ? ApiError.InvalidRequest(
                $"The file '{filename}' is of a type this server cannot read as text: input_file takes text, Markdown, JSON, CSV, HTML, source code, PDF or Word (.docx) files; send images as input_image.",
                param,
                "unsupported_file")
            : ApiError.InvalidRequest($"The file '{filename}' could not be read: {extracted.ErrorMessage}", param, "invalid_file"));
    }

    /// <summary>
    /// Downloads a <c>file_url</c> within <see cref="MaxFileBytes"/> and the image downloads' deadline, and names it:
    /// the client's <c>filename</c>, else the URL's last path segment with the extension its media type stands for.
    /// </summary>
    private async Task<(string? Filename, byte[]? Bytes, ApiError? Error)> DownloadAsync(string url, string? filename, string param, CancellationToken cancellationToken)
    {
        var echo = url.Length <= MaxEchoedUrl ? url : string.Concat(url.AsSpan(0, MaxEchoedUrl), "…");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return (null, null, ApiError.InvalidRequest($"Invalid file URL: '{echo}' is not an https: URL.", param, "invalid_value"));
        }

        var options = vision ?? new VisionInputOptions();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        FetchResult result;
        try
        {
            result = await _fetcher.Value.FetchAsync(uri, MaxFileBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            result = FetchResult.Fail(FetchFailure.Timeout, "the download took too long");
        }

        if (result.Bytes is not { } bytes)
        {
            var downloading = $"Error while downloading {echo}.";
            ApiError error = result.Failure switch
            {
                FetchFailure.Timeout => ApiError.InvalidRequest($"Timeout while downloading {echo}.", param, "invalid_value"),
                FetchFailure.TooLarge => ApiError.InvalidRequest($"The file at {echo} is larger than {MaxFileBytes >> 20} MiB, the most this server reads from an input_file.", param, "file_too_large"),
                FetchFailure.FetchingDisabled => ApiError.InvalidRequest(downloading + " This server does not fetch URLs; upload the file and send its 'file_id', or send its content as 'file_data'.", param, "invalid_value"),
                FetchFailure.SchemeNotAllowed => ApiError.InvalidRequest(downloading + (options.AllowHttp ? " Only http: and https: URLs are fetched." : " Only https: URLs are fetched."), param, "invalid_value"),
                FetchFailure.DomainNotAllowed => ApiError.InvalidRequest(downloading + " Its host is not on this server's list of allowed domains.", param, "invalid_value"),

                // Address refusals, HTTP errors and network failures read alike, so that answers do not map the network.
                _ => ApiError.InvalidRequest(downloading, param, "invalid_value"),
            };
            return (null, null, error);
        }

        if (filename is null)
        {
            var last = Uri.UnescapeDataString((result.FinalUrl ?? uri).AbsolutePath.TrimEnd('/').Split('/')[^1]);
            var name = last.Length == 0 || last.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 ? "download" : last;

            // The server's media type says what the bytes are (a PDF from /report?id=1, a page from /index.php).
            filename = result.MediaType is { } mediaType && Extensions.TryGetValue(mediaType, out var extension)
                ? Path.GetFileNameWithoutExtension(name) + extension
                : name;
        }

        return (filename, bytes, null);
    }

    public void Dispose()
    {
        if (_fetcher.IsValueCreated)
        {
            _fetcher.Value.Dispose();
        }
    }

    /// <summary>An uploaded file and its bytes (at most <paramref name="maxBytes"/>), or OpenAI's error naming <paramref name="param"/>.</summary>
    private async Task<(Capa.Storage.Files.StoredFile? File, byte[]? Bytes, ApiError? Error)> ReadAsync(string id, string param, long maxBytes, CancellationToken cancellationToken)
    {
        if (files is null)
        {
            return (null, null, ApiError.InvalidRequest("This server does not store files, so a content part cannot name a 'file_id'.", param, "unsupported_value"));
        }

        var file = await files.FindAsync(id, cancellationToken).ConfigureAwait(false);
        if (file is null || files.IsExpired(file))
        {
            return (null, null, new ApiError(404, $"No such File object: {id}", ApiError.InvalidRequestType, param, "file_not_found"));
        }

        if (!ReadablePurposes.Contains(file.Purpose))
        {
            return (null, null, ApiError.InvalidRequest(
                $"The file '{id}' was uploaded with purpose '{file.Purpose}'; a response reads files uploaded with purpose 'vision', 'user_data' or 'assistants'.",
                param,
                "invalid_value"));
        }

        if (file.Bytes > maxBytes)
        {
            return (null, null, ApiError.InvalidRequest(
                $"The file '{id}' is larger than {(maxBytes >> 20).ToString(CultureInfo.InvariantCulture)} MiB, the most this server reads for this content part.",
                param,
                "file_too_large"));
        }

        var content = await files.GetContentAsync(cancellationToken).ConfigureAwait(false);
        await using var stream = await content.OpenReadAsync(file.Sha256, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return (null, null, new ApiError(500, "The file's content is missing from the server's data directory.", ApiError.ServerErrorType));
        }

        // The stored size, not the stream's: a bucket's response stream need not know its length.
        var bytes = new byte[file.Bytes];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return (file, bytes, null);
    }
}
