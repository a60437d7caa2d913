using System.Text;
using Capa.Protocol;
using Capa.Protocol.Files;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Responses;
using Capa.Storage.Files;
using Capa.Storage.Files.S3;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Capa.Server.Files;

/// <summary><c>/v1/files</c>: upload (multipart, streamed to disk), list, retrieve, delete, and content.</summary>
internal sealed class FilesEndpoint
{
    /// <summary>Room for the form's other fields and part headers around the file.</summary>
    private const long FormOverheadBytes = 1 << 20;
    private const int MaxFields = 32;
    private const int MaxFieldBytes = 16 * 1024;

    private readonly FileService _files;
    private readonly long _maxFileBytes;
    private readonly ILogger<FilesEndpoint> _logger;

    public FilesEndpoint(FileService files, ServerSettings settings, ILogger<FilesEndpoint> logger)
    {
        _logger = logger;
        _files = files;
        _maxFileBytes = settings.MaxFileBytes;
    }

    public async Task UploadAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest(
                "Invalid Content-Type header: expected multipart/form-data with a boundary.", null, "invalid_content_type")).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = _maxFileBytes + FormOverheadBytes;
        }

        var content = await _files.GetContentAsync(ct).ConfigureAwait(false);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        StagedContent? staged = null;
        string? filename = null;
        try
        {
            var reader = new MultipartReader(boundary, context.Request.Body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
            while (await reader.ReadNextSectionAsync(ct).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase) || HeaderUtilities.RemoveQuotes(disposition.Name).Value is not { Length: > 0 } name)
                {
                    await ErrorWriter.WriteAsync(context, InvalidForm()).ConfigureAwait(false);
                    return;
                }

                if (name == "file")
                {
                    if (staged is not null)
                    {
                        await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Only one 'file' may be uploaded per request.", "file", "invalid_value")).ConfigureAwait(false);
                        return;
                    }

                    filename = FileName(disposition);
                    staged = await content.StageAsync(section.Body, _maxFileBytes, ct).ConfigureAwait(false);
                    if (staged is null)
                    {
                        await ErrorWriter.WriteAsync(context, FileUploadReader.FileTooLarge(_maxFileBytes)).ConfigureAwait(false);
                        return;
                    }

                    continue;
                }

                if (fields.Count >= MaxFields)
                {
                    await ErrorWriter.WriteAsync(context, InvalidForm()).ConfigureAwait(false);
                    return;
                }

                var value = await ReadFieldAsync(section.Body, ct).ConfigureAwait(false);
                if (value is null)
                {
                    await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest($"The form field '{FileUploadReader.Truncate(name)}' is too long.", name, "invalid_value")).ConfigureAwait(false);
                    return;
                }

                fields[name] = value;
            }

            if (staged is null)
            {
                await ErrorWriter.WriteAsync(context, FileUploadReader.MissingFile()).ConfigureAwait(false);
                return;
            }

            if (!FileUploadReader.TryRead(fields, out var request, out var error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            if (staged.Length == 0)
            {
                await ErrorWriter.WriteAsync(context, FileUploadReader.EmptyFile()).ConfigureAwait(false);
                return;
            }

            var file = await _files.CreateAsync(staged, filename ?? "upload", request, ct).ConfigureAwait(false);
            await WriteAsync(context, ToWire(file)).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.FileTooLarge(_maxFileBytes)).ConfigureAwait(false);
        }
        catch (S3Exception e)
        {
            await StorageFailedAsync(context, e).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException || (e is IOException && !ct.IsCancellationRequested))
        {
            await ErrorWriter.WriteAsync(context, InvalidForm()).ConfigureAwait(false);
        }
        finally
        {
            // A staged file not committed (error, disconnect) is removed here: nothing of a failed upload stays.
            staged?.Dispose();
        }
    }

    public async Task ListAsync(HttpContext context)
    {
        var q = context.Request.Query;
        if (!FileUploadReader.TryReadList(name => q.TryGetValue(name, out var v) ? v.ToString() : null, out var purpose, out var limit, out var descending, out var after, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var store = await _files.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        var page = await store.ListFilesAsync(new FileQuery
        {
            Purpose = purpose,
            Limit = limit,
            Descending = descending,
            After = after,
            Now = _files.Now.ToUnixTimeSeconds(),
        }, context.RequestAborted).ConfigureAwait(false);
        var data = page.Files.Select(ToWire).ToList();
        await WriteAsync(context, new FileList { Data = data, FirstId = data.FirstOrDefault()?.Id, LastId = data.LastOrDefault()?.Id, HasMore = page.HasMore }).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string id)
    {
        var file = await _files.FindAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (file is null)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, ToWire(file)).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, string id)
    {
        var file = await _files.FindAsync(id, context.RequestAborted).ConfigureAwait(false);
        StoredFile? deleted;
        try
        {
            deleted = file is null ? null : await _files.DeleteAsync(id, context.RequestAborted).ConfigureAwait(false);
        }
        catch (S3Exception e)
        {
            await StorageFailedAsync(context, e).ConfigureAwait(false);
            return;
        }

        if (deleted is null)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(id)).ConfigureAwait(false);
            return;
        }

        await ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(new DeletedFileObject { Id = id, Object = "file" }, FilesJsonContext.Default.DeletedFileObject)).ConfigureAwait(false);
    }

    public async Task ContentAsync(HttpContext context, string id)
    {
        var file = await _files.FindAsync(id, context.RequestAborted).ConfigureAwait(false);
        var content = await _files.GetContentAsync(context.RequestAborted).ConfigureAwait(false);
        Stream? stream;
        try
        {
            stream = file is null ? null : await content.OpenReadAsync(file.Sha256, context.RequestAborted).ConfigureAwait(false);
        }
        catch (S3Exception e)
        {
            await StorageFailedAsync(context, e).ConfigureAwait(false);
            return;
        }

        await using var opened = stream;
        if (file is null || stream is null)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(id)).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = file.Bytes;
        context.Response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = file.Filename }.ToString();
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The wire form of a stored file.</summary>
    public static FileObject ToWire(StoredFile file) => new()
    {
        Id = file.Id,
        Bytes = file.Bytes,
        CreatedAt = file.CreatedAt,
        ExpiresAt = file.ExpiresAt,
        Filename = file.Filename,
        Purpose = file.Purpose,
    };

    /// <summary>The bucket behind the file storage failed or cannot be reached: 503, the reason in the log only.</summary>
    private async Task StorageFailedAsync(HttpContext context, S3Exception e)
    {
        FilesLog.StorageFailed(_logger, e.Message);
        await ErrorWriter.WriteAsync(context, new ApiError(503, "The file storage is unavailable. Please try again later.", ApiError.ServerErrorType, null, "storage_unavailable")).ConfigureAwait(false);
    }

    private static ApiError InvalidForm() =>
        ApiError.InvalidRequest("The multipart form could not be parsed.", null, "invalid_multipart");

    private static string FileName(ContentDispositionHeaderValue disposition)
    {
        var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value;
        if (string.IsNullOrEmpty(name))
        {
            name = HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
        }

        // Only the last path segment is a name; control characters are dropped so the name is safe in headers and logs.
        name = Path.GetFileName((name ?? "").Replace('\\', '/'));
        name = new string([.. name.Where(c => !char.IsControl(c))]);
        if (name.Length > FileUploadReader.MaxFilenameLength)
        {
            name = name[..FileUploadReader.MaxFilenameLength];
        }

        return name.Length == 0 ? "upload" : name;
    }

    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        if (total > MaxFieldBytes)
        {
            return null;
        }

        return Encoding.UTF8.GetString(buffer, 0, total).Trim();
    }

    private static Task WriteAsync(HttpContext context, FileObject file) =>
        ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(file, FilesJsonContext.Default.FileObject));

    private static Task WriteAsync(HttpContext context, FileList list) =>
        ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(list, FilesJsonContext.Default.FileList));
}
