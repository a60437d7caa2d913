using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Capa.Storage.Files;

/// <summary>
/// File bytes in a content-addressed folder: <c>{root}/sha256/ab/abcdef...</c>, written once and never changed. An
/// upload streams into <c>{root}/tmp/</c> while it is hashed and counted, and is renamed into place only when complete,
/// so a reader never sees half a file and a crash leaves at most a temporary file, removed by <see cref="CleanAsync"/>.
/// </summary>
/// <remarks>
/// Rows (in an <see cref="IFileStore"/>) are written after the bytes and removed before them; the bytes of a deleted
/// file are removed when no other file has the same content. <see cref="Lock"/> serializes those two steps within
/// a process so that a delete never removes bytes an upload of the same content has just referred to.
/// </remarks>
public sealed class FileContentStore
{
    private const int BufferSize = 81920;
    private readonly string _root;

    /// <summary>A store rooted at <paramref name="root"/> (created when missing).</summary>
    public FileContentStore(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(TempDirectory);
    }

    /// <summary>The root folder.</summary>
    public string Root => _root;

    /// <summary>Serializes "bytes in place + row written" against "row removed + bytes removed".</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    private string TempDirectory => Path.Combine(_root, "tmp");

    /// <summary>The path of the content with hash <paramref name="sha256"/> (which may not exist).</summary>
    public string PathOf(string sha256)
    {
        if (!IsAddress(sha256))
        {
            throw new ArgumentException("Not a SHA-256 content address.", nameof(sha256));
        }

        return Path.Combine(_root, "sha256", sha256[..2], sha256);
    }

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

    /// <summary>Moves staged bytes to their address (keeping the copy already there, which is identical).</summary>
    internal void Commit(StagedContent staged)
    {
        var target = PathOf(staged.Sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target))
        {
            File.Delete(staged.TempPath);
            return;
        }

        try
        {
            File.Move(staged.TempPath, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            // Another upload of the same content won the race: its copy is identical.
            File.Delete(staged.TempPath);
        }
    }

    /// <summary>Opens the content with hash <paramref name="sha256"/> for reading, or <see langword="null"/> when it is missing.</summary>
    public Stream? OpenRead(string sha256)
    {
        try
        {
            return new FileStream(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Removes the content with hash <paramref name="sha256"/> if it exists.</summary>
    public void Delete(string sha256) => TryDelete(PathOf(sha256));

    /// <summary>
    /// Removes what a crash can leave: temporary files, and content no row refers to (<paramref name="referenced"/>)
    /// that is older than <paramref name="minimumAge"/> (younger content may belong to an upload whose row is being written).
    /// </summary>
    public int Clean(IReadOnlySet<string> referenced, TimeSpan minimumAge, DateTimeOffset now)
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

        var contentRoot = Path.Combine(_root, "sha256");
        if (!Directory.Exists(contentRoot))
        {
            return removed;
        }

        foreach (var file in Directory.EnumerateFiles(contentRoot, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (IsAddress(name) && !referenced.Contains(name) && now - File.GetLastWriteTimeUtc(file) >= minimumAge && TryDelete(file))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Async form of <see cref="Clean"/> that reads the referenced set from <paramref name="files"/>.</summary>
    public async Task<int> CleanAsync(IFileStore files, TimeSpan minimumAge, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        await Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var referenced = await files.ListReferencedContentAsync(cancellationToken).ConfigureAwait(false);
            return Clean(referenced, minimumAge, now);
        }
        finally
        {
            Lock.Release();
        }
    }

    private static bool TryDelete(string path)
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

    /// <summary>Moves the bytes to their address; call under <see cref="FileContentStore.Lock"/> before writing the row.</summary>
    public void Commit()
    {
        _owner.Commit(this);
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
