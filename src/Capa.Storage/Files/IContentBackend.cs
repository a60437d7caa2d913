namespace Capa.Storage.Files;

/// <summary>One stored content object: its SHA-256 address and when it was last written.</summary>
public readonly record struct ContentObject(string Sha256, DateTimeOffset LastModified);

/// <summary>
/// Where committed file bytes live, by SHA-256 address: a local folder (<see cref="LocalContentBackend"/>) or an
/// S3-compatible bucket (<see cref="S3.S3ContentBackend"/>) that several servers share. Uploads are staged locally by
/// <see cref="FileContentStore"/> and handed over complete, so a backend never holds half a file.
/// </summary>
public interface IContentBackend
{
    /// <summary>Where the bytes are, for logs (never a credential).</summary>
    string Location { get; }

    /// <summary>
    /// Stores the complete staged file at <paramref name="sha256"/> and deletes the staged file. Writing content that is
    /// already there refreshes its <see cref="ContentObject.LastModified"/> (so a sweep never takes it from a new row).
    /// </summary>
    Task PutAsync(string sha256, string stagedPath, long length, CancellationToken cancellationToken);

    /// <summary>Opens the content for reading, or <see langword="null"/> when it is missing.</summary>
    Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the content unless it was written after <paramref name="writtenBefore"/> (then another upload of the same
    /// bytes may just have referred to it). Returns whether it was removed; missing content counts as removed.
    /// </summary>
    Task<bool> DeleteAsync(string sha256, DateTimeOffset writtenBefore, CancellationToken cancellationToken);

    /// <summary>Every stored content object.</summary>
    IAsyncEnumerable<ContentObject> ListAsync(CancellationToken cancellationToken);
}
