using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Images;

/// <summary>
/// The images behind <c>url</c> responses: each under an unguessable name (256 random bits), served until it expires
/// (<see cref="ImageOptions.UrlLifetime"/>), then deleted. Disk use is bounded: adding an image past
/// <see cref="ImageOptions.MaxFileBytes"/> deletes the oldest first. Expiry is checked on every read, and a background
/// sweep deletes what expired; both use the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class ImageFileStore : IDisposable
{
    private readonly ImageOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _directory;
    private readonly bool _ownsDirectory;
    private readonly ConcurrentDictionary<string, StoredImage> _images = new(StringComparer.Ordinal);
    private readonly Lock _sizeLock = new();
    private long _bytes;

    public ImageFileStore(ImageOptions options, TimeProvider time, ILogger<ImageFileStore> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _ownsDirectory = options.FilesDirectory is null;
        _directory = options.FilesDirectory ?? Path.Combine(Path.GetTempPath(), "capa-images-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);

        // Files of an earlier run have no record of when they were made: they are not served and go now.
        foreach (string stale in Directory.EnumerateFiles(_directory, "img_*"))
        {
            TryDelete(stale);
        }
    }

    /// <summary>The images kept now and their total size.</summary>
    public (int Count, long Bytes) Usage => (_images.Count, Interlocked.Read(ref _bytes));

    /// <summary>Keeps <paramref name="bytes"/> and returns its name (the last URL segment, with extension).</summary>
    public string Add(ReadOnlySpan<byte> bytes, string extension, string contentType)
    {
        string name = "img_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "." + extension;
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes.ToArray());
        var image = new StoredImage(path, contentType, bytes.Length, _time.GetUtcNow());
        _images[name] = image;
        lock (_sizeLock)
        {
            _bytes += bytes.Length;
            foreach (var (oldName, old) in _images.OrderBy(p => p.Value.Created).ThenBy(p => p.Key, StringComparer.Ordinal).ToList())
            {
                if (_bytes <= _options.MaxFileBytes || oldName == name)
                {
                    break;
                }

                Remove(oldName, old);
                LogEvicted(_logger, _options.MaxFileBytes);
            }
        }

        return name;
    }

    /// <summary>The image called <paramref name="name"/> when it exists and has not expired.</summary>
    public bool TryGet(string name, out string path, out string contentType)
    {
        path = contentType = "";
        if (!_images.TryGetValue(name, out StoredImage? image))
        {
            return false;
        }

        if (IsExpired(image))
        {
            Remove(name, image);
            return false;
        }

        path = image.Path;
        contentType = image.ContentType;
        return File.Exists(path);
    }

    /// <summary>Deletes every expired image; returns how many went.</summary>
    public int Sweep()
    {
        int removed = 0;
        foreach (var (name, image) in _images)
        {
            if (IsExpired(image) && Remove(name, image))
            {
                removed++;
            }
        }

        return removed;
    }

    public void Dispose()
    {
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file still open by a reader; the temp directory is cleaned by the system.
            }
        }
    }

    private bool IsExpired(StoredImage image) => _time.GetUtcNow() - image.Created >= _options.UrlLifetime;

    private bool Remove(string name, StoredImage image)
    {
        if (!_images.TryRemove(new KeyValuePair<string, StoredImage>(name, image)))
        {
            return false;
        }

        Interlocked.Add(ref _bytes, -image.Bytes);
        TryDelete(image.Path);
        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Being read right now; the next sweep cannot see it any more, but the directory goes at shutdown.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image files exceed {Limit} bytes: the oldest was deleted early.")]
    private static partial void LogEvicted(ILogger logger, long limit);

    private sealed record StoredImage(string Path, string ContentType, long Bytes, DateTimeOffset Created);
}

/// <summary>Runs <see cref="ImageFileStore.Sweep"/> every <see cref="ImageOptions.CleanupInterval"/>.</summary>
internal sealed class ImageFileCleanup(ImageFileStore store, ImageOptions options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                store.Sweep();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }
}
