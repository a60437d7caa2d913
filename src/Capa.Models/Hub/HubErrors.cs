using System.Text;
using System.Text.Json;
using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>What a request was for, so that errors can say it in the user's terms.</summary>
/// <param name="RepoId">The repository.</param>
/// <param name="Revision">The revision asked for.</param>
/// <param name="Endpoint">The hub's base address as configured.</param>
/// <param name="HasToken">Whether a token was sent.</param>
/// <param name="FilePath">The file being downloaded; <see langword="null"/> for the file list.</param>
internal sealed record HubRequestContext(string RepoId, string Revision, string Endpoint, bool HasToken, string? FilePath);

/// <summary>Turns hub answers and local failures into <see cref="HubException"/>s that tell the user what to do.</summary>
internal static class HubErrors
{
    private const int MaxDetailBytes = 2048;

    /// <summary>The error for a non-success answer. 5xx, 429 and 408 are transient (retried); the rest are not.</summary>
    public static async Task<HubException> FromResponseAsync(HttpResponseMessage response, HubRequestContext context, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var errorCode = response.Headers.TryGetValues("X-Error-Code", out var codes) ? codes.FirstOrDefault() : null;
        var detail = await ReadDetailAsync(response, ct).ConfigureAwait(false);
        var repo = context.RepoId;
        var endpoint = context.Endpoint;

        if (errorCode == "RepoNotFound" || (status == 404 && context.FilePath is null && errorCode is null or "RepoNotFound"))
        {
            return new HubException(HubErrorKind.RepositoryNotFound,
                $"Repository '{repo}' was not found on {endpoint}. Check the id (ORG/NAME, as on the hub's page); " +
                (context.HasToken
                    ? "if it is private, the HF_TOKEN given cannot read it."
                    : "if it is private, set HF_TOKEN to a token that can read it."),
                statusCode: status);
        }

        if (errorCode == "RevisionNotFound")
        {
            return new HubException(HubErrorKind.RevisionNotFound,
                $"Revision '{context.Revision}' was not found in repository '{repo}' on {endpoint}: use an existing branch, tag or commit.",
                statusCode: status);
        }

        if (errorCode == "GatedRepo" || status is 401 or 403)
        {
            var licence = $"{endpoint.TrimEnd('/')}/{repo}";
            return new HubException(HubErrorKind.AccessDenied,
                context.HasToken
                    ? $"Access to repository '{repo}' was refused (HTTP {status}) with the HF_TOKEN given: check that the token is valid " +
                      $"and can read this repository, and accept the model's licence at {licence} with the same account."
                    : $"Repository '{repo}' is gated or private (HTTP {status}): set HF_TOKEN to a Hugging Face access token, " +
                      $"and accept the model's licence at {licence}.",
                statusCode: status);
        }

        if (status == 404)
        {
            return new HubException(HubErrorKind.FileNotFound,
                $"File '{context.FilePath}' of repository '{repo}' (revision {context.Revision}) was not found on {endpoint} although the file list names it.",
                statusCode: status);
        }

        var what = context.FilePath is null ? $"the file list of '{repo}'" : $"'{context.FilePath}' of '{repo}'";
        var suffix = detail is null ? string.Empty : $": {detail}";
        if (status >= 500 || status is 429 or 408)
        {
            return new HubException(HubErrorKind.ServerError,
                $"{endpoint} answered HTTP {status} ({response.ReasonPhrase}) for {what}{suffix}. Try again later.", statusCode: status);
        }

        return new HubException(HubErrorKind.InvalidResponse,
            $"{endpoint} answered HTTP {status} ({response.ReasonPhrase}) for {what}{suffix}.", statusCode: status);
    }

    /// <summary>The error for a failed write in the store: disk full gets its own kind and message.</summary>
    public static HubException Storage(Exception e, string path, string storeRoot, long bytesStillNeeded)
    {
        if (e is IOException io && IsDiskFull(io))
        {
            return new HubException(HubErrorKind.DiskFull,
                $"Not enough disk space in {storeRoot} while writing '{path}': the pull needs {ByteSize.Format(bytesStillNeeded)} more. " +
                "Free some space (or choose another folder with --models-dir or CAPA_MODELS) and run the same pull again: it resumes.",
                e);
        }

        return new HubException(HubErrorKind.StorageError, $"Could not write '{path}' in {storeRoot}: {e.Message}", e);
    }

    /// <summary>
    /// Whether an I/O error means the disk (or the user's quota) is full: ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows,
    /// ENOSPC / EDQUOT on Unix (where .NET puts the errno in <see cref="Exception.HResult"/>).
    /// </summary>
    public static bool IsDiskFull(IOException e)
    {
        var hresult = e.HResult;
        if (hresult is 0x70 or unchecked((int)0x80070070) or 28)
        {
            return true;
        }

        return (OperatingSystem.IsWindows() && hresult is 0x27 or unchecked((int)0x80070027))
            || (OperatingSystem.IsLinux() && hresult == 122)
            || (OperatingSystem.IsMacOS() && hresult == 69);
    }

    /// <summary>A short description of a network failure for messages.</summary>
    public static string Describe(Exception e) => e switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "the host name could not be resolved",
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => "the connection failed",
        HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } or HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }
            => "the connection was cut mid-answer",
        _ => e.Message,
    };

    private static async Task<string?> ReadDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var buffer = new byte[MaxDetailBytes];
            var length = 0;
            int n;
            while (length < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false)) > 0)
            {
                length += n;
            }

            if (length == 0)
            {
                return null;
            }

            try
            {
                using var doc = JsonDocument.Parse(buffer.AsMemory(0, length));
                if (doc.RootElement.ValueKind == JsonValueKind.Object
                    && doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString();
                }
            }
            catch (JsonException)
            {
                // Not JSON: a proxy's HTML page or plain text; the first line says enough.
            }

            var text = Encoding.UTF8.GetString(buffer, 0, length);
            var line = text.Split('\n', 2)[0].Trim();
            return line.Length == 0 || line.StartsWith('<') ? null : line.Length > 200 ? line[..200] + "…" : line;
        }
        catch (Exception e) when ((e is IOException or HttpRequestException or OperationCanceledException) && !ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
