using System.Runtime.CompilerServices;

namespace Capa.Storage.Files;

/// <summary>Content in a local folder: <c>{root}/ab/abcdef...</c> (the first two hex digits name a subfolder).</summary>
public sealed class LocalContentBackend : IContentBackend
{
    private const int BufferSize = 81920;
    private readonly string _root;
    private readonly TimeProvider _time;

    /// <summary>
    /// A backend over <paramref name="root"/>, created on first write. <paramref name="time"/> dates what is written (default
    /// the system clock), so that a sweep comparing ages against the same clock sees what it wrote.
    /// </summary>
    public LocalContentBackend(string root, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Location => _root;

    /// <summary>The path of the content with hash <paramref name="sha256"/> (which may not exist).</summary>
    public string PathOf(string sha256) => Path.Combine(_root, sha256[..2], sha256);

    /// <inheritdoc/>
    public Task PutAsync(string sha256, string stagedPath, long length, CancellationToken cancellationToken)
    {
        string target = PathOf(sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            File.Move(stagedPath, target, overwrite: false);
        }
        catch (IOException) when (File.Exists(target))
        {
            // The same content is there already (identical by its address); written again, as the contract says.
            File.Delete(stagedPath);
        }

        // A move keeps the staged file's time; the write time is when the content was put, on the backend's clock.
        File.SetLastWriteTimeUtc(target, _time.GetUtcNow().UtcDateTime);

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task<Stream?> OpenReadAsync(string sha256, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    /// <inheritdoc/>
    public Task<bool> DeleteAsync(string sha256, DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        string path = PathOf(sha256);
        if (!File.Exists(path))
        {
            return Task.FromResult(true);
        }

        if (writtenBefore != DateTimeOffset.MaxValue && new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero) > writtenBefore)
        {
            return Task.FromResult(false);
        }

        return Task.FromResult(FileContentStore.TryDelete(path));
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ContentObject> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        foreach (string file in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = Path.GetFileName(file);
            if (FileContentStore.IsAddress(name))
            {
                yield return new ContentObject(name, new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero));
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
