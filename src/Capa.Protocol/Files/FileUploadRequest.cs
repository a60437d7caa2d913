using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Capa.Protocol.Files;

/// <summary>The form fields of <c>POST /v1/files</c> besides the file itself, validated.</summary>
public sealed record FileUploadRequest
{
    /// <summary>One of <see cref="FileUploadReader.Purposes"/>.</summary>
    public required string Purpose { get; init; }

    /// <summary>Seconds after creation when the file expires (3600–2592000), or null.</summary>
    public long? ExpiresAfterSeconds { get; init; }
}

/// <summary>Validation of the Files API's inputs with OpenAI's errors.</summary>
public static class FileUploadReader
{
    /// <summary>The purposes a client may upload with.</summary>
    public static IReadOnlyList<string> Purposes { get; } = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"];

    /// <summary>The purposes files may have in lists (uploads, and outputs OpenAI writes).</summary>
    public static IReadOnlyList<string> ListablePurposes { get; } =
        ["assistants", "assistants_output", "batch", "batch_output", "fine-tune", "fine-tune-results", "vision", "user_data", "evals"];

    /// <summary>The longest file name kept (longer names are refused).</summary>
    public const int MaxFilenameLength = 512;

    /// <summary>Shortest <c>expires_after[seconds]</c>: one hour.</summary>
    public const long MinExpirySeconds = 3600;

    /// <summary>Longest <c>expires_after[seconds]</c>: 30 days.</summary>
    public const long MaxExpirySeconds = 2_592_000;

    /// <summary>
    /// Reads the form fields (<c>purpose</c>, <c>expires_after[anchor]</c>, <c>expires_after[seconds]</c>) of an upload.
    /// </summary>
    public static bool TryRead(IReadOnlyDictionary<string, string> fields, [NotNullWhen(true)] out FileUploadRequest? request, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(fields);
        request = null;
        if (!fields.TryGetValue("purpose", out var purpose) || purpose.Length == 0)
        {
            error = ApiError.InvalidRequest("Missing required parameter: 'purpose'.", "purpose", "missing_required_parameter");
            return false;
        }

        if (!Purposes.Contains(purpose, StringComparer.Ordinal))
        {
            error = ApiError.InvalidRequest(
                $"'{Truncate(purpose)}' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
                "purpose", "invalid_value");
            return false;
        }

        long? seconds = null;
        fields.TryGetValue("expires_after[anchor]", out var anchor);
        fields.TryGetValue("expires_after[seconds]", out var secondsText);
        if (anchor is not null || secondsText is not null)
        {
            if (anchor is null)
            {
                error = ApiError.InvalidRequest("Missing required parameter: 'expires_after.anchor'.", "expires_after.anchor", "missing_required_parameter");
                return false;
            }

            if (anchor != "created_at")
            {
                error = ApiError.InvalidRequest($"Invalid value: '{Truncate(anchor)}'. Supported values are: 'created_at'.", "expires_after.anchor", "invalid_value");
                return false;
            }

            if (secondsText is null)
            {
                error = ApiError.InvalidRequest("Missing required parameter: 'expires_after.seconds'.", "expires_after.seconds", "missing_required_parameter");
                return false;
            }

            if (!long.TryParse(secondsText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
            {
                error = ApiError.InvalidRequest($"Invalid type for 'expires_after.seconds': expected an integer, but got '{Truncate(secondsText)}'.", "expires_after.seconds", "invalid_type");
                return false;
            }

            if (parsed is < MinExpirySeconds or > MaxExpirySeconds)
            {
                error = ApiError.InvalidRequest(
                    string.Create(CultureInfo.InvariantCulture, $"Invalid 'expires_after.seconds': must be between {MinExpirySeconds} and {MaxExpirySeconds}, got {parsed}."),
                    "expires_after.seconds", "integer_out_of_range");
                return false;
            }

            seconds = parsed;
        }

        request = new FileUploadRequest { Purpose = purpose, ExpiresAfterSeconds = seconds };
        error = null;
        return true;
    }

    /// <summary>The 400 for an upload without a file part.</summary>
    public static ApiError MissingFile() => ApiError.InvalidRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter");

    /// <summary>The 400 for an empty file.</summary>
    public static ApiError EmptyFile() => ApiError.InvalidRequest("The file is empty: upload a file with content.", "file", "empty_file");

    /// <summary>The 413 for a file over the limit.</summary>
    public static ApiError FileTooLarge(long maxBytes) => new(413,
        string.Create(CultureInfo.InvariantCulture, $"File is too large: the maximum file size is {maxBytes} bytes."),
        ApiError.InvalidRequestType, "file", "file_too_large");

    /// <summary>The 404 for an unknown file id.</summary>
    public static ApiError NotFound(string id, string? param = null) =>
        new(404, $"No such File object: {Truncate(id)}", ApiError.InvalidRequestType, param);

    /// <summary>Reads the list query (<c>purpose</c>, <c>limit</c>, <c>order</c>, <c>after</c>).</summary>
    public static bool TryReadList(Func<string, string?> query, out string? purpose, out int limit, out bool descending, out string? after, [NotNullWhen(false)] out ApiError? error)
    {
        ArgumentNullException.ThrowIfNull(query);
        purpose = query("purpose");
        after = query("after");
        limit = 10_000;
        descending = true;
        error = null;
        if (purpose is { Length: 0 })
        {
            purpose = null;
        }

        if (query("limit") is { Length: > 0 } limitText)
        {
            if (!int.TryParse(limitText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 10_000)
            {
                error = ApiError.InvalidRequest($"Invalid 'limit': must be an integer between 1 and 10000, got '{Truncate(limitText)}'.", "limit", "integer_out_of_range");
                return false;
            }
        }

        if (query("order") is { Length: > 0 } order)
        {
            if (order is not ("asc" or "desc"))
            {
                error = ApiError.InvalidRequest($"Invalid value: '{Truncate(order)}'. Supported values are: 'asc' and 'desc'.", "order", "invalid_value");
                return false;
            }

            descending = order == "desc";
        }

        if (after is { Length: 0 })
        {
            after = null;
        }

        return true;
    }

    /// <summary>A value shortened for an error message.</summary>
    public static string Truncate(string value) => value.Length > 128 ? value[..128] + "..." : value;
}
