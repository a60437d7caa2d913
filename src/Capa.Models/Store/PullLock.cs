namespace Capa.Models.Store;

/// <summary>
/// An exclusive lock on one model's download folder (<c>.partial/{org}--{name}.lock</c>), held while a pull writes
/// there, so that two pulls of the same model (or a pull and a removal) never write the same files.
/// </summary>
internal sealed class PullLock : IDisposable
{
    /// <summary>The suffix of a download folder's lock file.</summary>
    public const string Suffix = ".lock";

    private readonly FileStream _stream;

    private PullLock(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock, or returns <see langword="null"/> when another process or pull holds it.</summary>
    public static PullLock? TryAcquire(ModelStore store, string id)
    {
        Directory.CreateDirectory(store.PartialRoot);
        return TryAcquireAt(store.PartialPathFor(id) + Suffix);
    }

    /// <summary>Takes the lock file at <paramref name="path"/>, or returns <see langword="null"/> when it is held.</summary>
    public static PullLock? TryAcquireAt(string path)
    {
        try
        {
            // FileShare.None is an OS lock (flock on Unix): it is released when the process dies, so no stale locks.
            return new PullLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
