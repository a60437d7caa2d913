namespace Capa.Storage.Files;

/// <summary>
/// Metadata of uploaded files (the Files API). The bytes are not here: they are in a <see cref="FileContentStore"/>,
/// addressed by <see cref="StoredFile.Sha256"/>, written before the row so a row never points at missing bytes.
/// </summary>
/// <remarks>Implementations are thread-safe singletons; every method is atomic.</remarks>
public interface IFileStore
{
    /// <summary>Creates or upgrades the schema; call once before anything else.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new file row.</summary>
    /// <exception cref="StoreConflictException">A file with that id exists.</exception>
    Task CreateFileAsync(StoredFile file, CancellationToken cancellationToken);

    /// <summary>A file, or <see langword="null"/>.</summary>
    Task<StoredFile?> GetFileAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>A page of files ordered by creation (ties by id).</summary>
    Task<FilePage> ListFilesAsync(FileQuery query, CancellationToken cancellationToken);

    /// <summary>Deletes a file row; returns it, or <see langword="null"/> when there was none.</summary>
    Task<StoredFile?> DeleteFileAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>Whether any file row refers to the content <paramref name="sha256"/>.</summary>
    Task<bool> IsContentReferencedAsync(string sha256, CancellationToken cancellationToken);

    /// <summary>Every content address some file row refers to.</summary>
    Task<IReadOnlySet<string>> ListReferencedContentAsync(CancellationToken cancellationToken);

    /// <summary>Files whose <see cref="StoredFile.ExpiresAt"/> is before <paramref name="now"/> (Unix seconds), at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<StoredFile>> ListExpiredFilesAsync(long now, int limit, CancellationToken cancellationToken);
}
