using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Capa.Storage.Files;

/// <summary>
/// File bytes by content address (SHA-256), written once and never changed, in an <see cref="IContentBackend"/>: a
/// local folder (<c>{root}/sha256/ab/abcdef...</c>) or an S3-compatible bucket. An upload streams into
/// <c>{root}/tmp/</c> while it is hashed and counted, and is handed to the backend only when complete, so a reader never
/// sees half a file and a crash leaves at most a temporary file, removed by <see cref="CleanAsync(IFileStore, TimeSpan, DateTimeOffset, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Rows (in an <see cref="IFileStore"/>) are written after the bytes and removed before them; the bytes of a deleted
/// file are removed when no other file has the same content. <see cref="Lock"/> serializes those two steps within
/// a process so that a delete never removes bytes an upload of the same content has just referred to. A shared bucket
/// has writers in other processes too: there a delete spares content written in the last <see cref="SharedDeleteGuard"/>
/// (every upload rewrites its content, so content a new row refers to is always that young), and the sweep removes it
/// later if nothing refers to it.
/// </remarks>
public sealed class FileContentStore
{
    /// <summary>How young shared content must be for a delete to leave it to the sweep.</summary>
    public static readonly TimeSpan SharedDeleteGuard = TimeSpan.FromMinutes(10);

    private const int BufferSize = 81920;
    private readonly string _root;
    private readonly IContentBackend _backend;
    private readonly bool _shared;

    /// <summary>
    /// A store whose bytes are in the folder <paramref name="root"/> (created when missing), dated by
    /// <paramref name="time"/> (default the system clock).
    /// </summary>
    public FileContentStore(string root, TimeProvider? time = null)
        : this(root, new LocalContentBackend(Path.Combine(Path.GetFullPath(root), "sha256"), time), shared: false)
    {
    }

    /// <summary>
    /// A store that stages uploads under <paramref name="root"/> and keeps the bytes in <paramref name="backend"/>;
    /// <paramref name="shared"/> when other processes write to the same backend.
    /// </summary>
    public FileContentStore(string root, IContentBackend backend, bool shared)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(backend);
        _root = Path.GetFullPath(root);
        _backend = backend;
        _shared = shared;
        Directory.CreateDirectory(TempDirectory);
    }

    /// <summary>The folder uploads are staged in (and, for a local store, the bytes kept in).</summary>
    public string Root => _root;

    /// <summary>Where the bytes are kept, for logs.</summary>
    public string Location => _backend.Location;

    /// <summary>Serializes "bytes in place + row written" against "row removed + bytes removed".</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    private string TempDirectory => Path.Combine(_root, "tmp");

    /// <summary>Whether <paramref name="value"/> is 64 lowercase hex digits.</summary>
    public static bool IsAddress([NotNullWhen(true)] string? value) =>
        value is { Length: 64 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>
    /// Copies <paramref name="source"/> into a temporary file, at most <paramref name="maxBytes"/> bytes. Returns the
    /// staged upload, or <see langword="null"/> (and nothing on disk) when the source is longer than the limit.
    /// </summary>
    public async Task<StagedContent?> StageAsync(Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        Directory.CreateDirectory(TempDirectory);
        var path = Path.Combine(TempDirectory, Guid.NewGuid().ToString("N") + ".part");
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                    if (total > maxBytes)
                    {
                        target.Close();
                        File.Delete(path);
                        return null;
                    }

                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                // The bytes must be on disk before a row can refer to them.
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                target.Flush(flushToDisk: true);
            }

            return new StagedContent(this, path, Convert.ToHexStringLower(hash.GetHashAndReset()), total);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Hands staged bytes to the backend at their address.</summary>
    internal Task CommitAsync(StagedContent staged, CancellationToken cancellationToken) =>
        _backend.PutAsync(staged.Sha256, staged.TempPath, staged.Length, cancellationToken);

    /// <summary>Opens the content with hash <paramref name="sha256"/> for reading, or <see langword="null"/> when it is missing.</summary>
    public Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken)
    {
        CheckAddress(sha256);
        return _backend.OpenReadAsync(sha256, cancellationToken);
    }

    /// <summary>
    /// Removes the content with hash <paramref name="sha256"/> (a deleted file's, no longer referred to); in a shared
    /// backend, content written in the last <see cref="SharedDeleteGuard"/> is left to the sweep.
    /// </summary>
    public Task DeleteAsync(string sha256, DateTimeOffset now, CancellationToken cancellationToken)
    {
        CheckAddress(sha256);
        return _backend.DeleteAsync(sha256, _shared ? now - SharedDeleteGuard : DateTimeOffset.MaxValue, cancellationToken);
    }

    /// <summary>
    /// Removes what a crash can leave: temporary files, and content no row refers to (<paramref name="referenced"/>)
    /// that is older than <paramref name="minimumAge"/> (younger content may belong to an upload whose row is being written).
    /// </summary>
    public async Task<int> CleanAsync(IReadOnlySet<string> referenced, TimeSpan minimumAge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(referenced);
        var removed = 0;
        foreach (var temp in Directory.EnumerateFiles(TempDirectory))
        {
            if (now - File.GetLastWriteTimeUtc(temp) >= minimumAge && TryDelete(temp))
            {
                removed++;
            }
        }

        DateTimeOffset writtenBefore = now - minimumAge;
        var orphans = new List<string>();
        await foreach (ContentObject stored in _backend.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!referenced.Contains(stored.Sha256) && stored.LastModified <= writtenBefore)
            {
                orphans.Add(stored.Sha256);
            }
        }

        foreach (string orphan in orphans)
        {
            if (await _backend.DeleteAsync(orphan, writtenBefore, cancellationToken).ConfigureAwait(false))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Async form of <see cref="CleanAsync(IReadOnlySet{string}, TimeSpan, DateTimeOffset, CancellationToken)"/> that reads the referenced set from <paramref name="files"/>.</summary>
    public async Task<int> CleanAsync(IFileStore files, TimeSpan minimumAge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        await Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var referenced = await files.ListReferencedContentAsync(cancellationToken).ConfigureAwait(false);
            return await CleanAsync(referenced, minimumAge, now, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Lock.Release();
        }
    }

    private static void CheckAddress(string sha256)
    {
        if (!IsAddress(sha256))
        {
            throw new ArgumentException("Not a SHA-256 content address.", nameof(sha256));
        }
    }

    internal static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>An upload's bytes in a temporary file, hashed and counted, not yet at their address.</summary>
public sealed class StagedContent : IDisposable
{
    private readonly FileContentStore _owner;
    private bool _committed;

    internal StagedContent(FileContentStore owner, string tempPath, string sha256, long length)
    {
        _owner = owner;
        TempPath = tempPath;
        Sha256 = sha256;
        Length = length;
    }

    internal string TempPath { get; }

    /// <summary>The content's SHA-256, its address.</summary>
    public string Sha256 { get; }

    /// <summary>Size in bytes.</summary>
    public long Length { get; }

    /// <summary>Hands the bytes to the backend at their address; call under <see cref="FileContentStore.Lock"/> before writing the row.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        await _owner.CommitAsync(this, cancellationToken).ConfigureAwait(false);
        _committed = true;
    }

    /// <summary>Removes the temporary file unless committed.</summary>
    public void Dispose()
    {
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
            }
        }
    }
}
