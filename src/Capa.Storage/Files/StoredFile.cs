namespace Capa.Storage.Files;

/// <summary>An uploaded file's metadata; its bytes live in a <see cref="FileContentStore"/> under <see cref="Sha256"/>.</summary>
public sealed record StoredFile
{
    /// <summary><c>file-...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Size in bytes.</summary>
    public required long Bytes { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>
    /// Orders files in lists (the creation time in milliseconds by convention); ties are broken by id. Defaults to
    /// <see cref="CreatedAt"/> in milliseconds.
    /// </summary>
    public long? OrderKey { get; init; }

    /// <summary>Unix time in seconds after which the file is gone, or null for never.</summary>
    public long? ExpiresAt { get; init; }

    /// <summary>The name the client gave.</summary>
    public required string Filename { get; init; }

    /// <summary>The purpose (<c>assistants</c>, <c>user_data</c>, ...).</summary>
    public required string Purpose { get; init; }

    /// <summary>The SHA-256 of the content, 64 lowercase hex digits: the content's address.</summary>
    public required string Sha256 { get; init; }
}

/// <summary>A query over files: newest first by default, optionally one purpose, after a cursor.</summary>
public sealed record FileQuery
{
    /// <summary>Only files with this purpose, or all.</summary>
    public string? Purpose { get; init; }

    /// <summary>At most this many files (1–10000).</summary>
    public int Limit { get; init; } = 10_000;

    /// <summary>Newest first (the default) or oldest first.</summary>
    public bool Descending { get; init; } = true;

    /// <summary>Start after the file with this id (a page's last id).</summary>
    public string? After { get; init; }

    /// <summary>Files that expired before this Unix time (seconds) are left out, or null to keep all.</summary>
    public long? Now { get; init; }
}

/// <summary>A page of files and whether more follow.</summary>
public sealed record FilePage(IReadOnlyList<StoredFile> Files, bool HasMore);
