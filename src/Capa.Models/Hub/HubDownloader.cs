using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Capa.Models.Store;

namespace Capa.Models.Hub;

/// <summary>
/// Downloads one repository file into a pull's download folder: resumable with HTTP Range (bytes already on disk are
/// kept across retries and runs), retried with back-off after a cut or stalled connection, verified against the hub's
/// size and LFS sha256. A file is written as <c>{path}.capa-part</c> and renamed to its name only once verified, so a
/// file under its own name in the download folder is always complete.
/// </summary>
internal sealed class HubDownloader
{
    /// <summary>The suffix of a file still being downloaded.</summary>
    public const string PartSuffix = ".capa-part";

    private const int BufferSize = 256 * 1024;

    private readonly HubClient _client;
    private readonly HubClientOptions _options;
    private readonly string _storeRoot;

    public HubDownloader(HubClient client, HubClientOptions options, string storeRoot)
    {
        _client = client;
        _options = options;
        _storeRoot = storeRoot;
    }

    /// <summary>Bytes of <paramref name="file"/> already in <paramref name="directory"/> (complete or partial).</summary>
    public static long BytesOnDisk(HubFile file, string directory)
    {
        var final = LocalPath(directory, file.Path);
        if (File.Exists(final))
        {
            return new FileInfo(final).Length;
        }

        var part = final + PartSuffix;
        return File.Exists(part) ? new FileInfo(part).Length : 0;
    }

    /// <summary>Where a repository path lives under <paramref name="directory"/>.</summary>
    public static string LocalPath(string directory, string repositoryPath) =>
        Path.Combine(directory, repositoryPath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Downloads (or finishes) <paramref name="file"/> and returns its manifest entry.</summary>
    public async Task<ManifestFile> DownloadAsync(HubFile file, Uri url, string directory, HubRequestContext context, PullTracker tracker, CancellationToken ct)
    {
        var finalPath = LocalPath(directory, file.Path);
        var partPath = finalPath + PartSuffix;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, file.Path, _storeRoot, tracker.TotalBytes - tracker.BytesDone);
        }

        if (await TryReuseCompletedAsync(file, finalPath, tracker, ct).ConfigureAwait(false) is { } reused)
        {
            return reused;
        }

        using var hash = new HashState();
        var failures = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var before = PartLength(partPath);
            try
            {
                await AttemptAsync(file, url, partPath, hash, context, tracker, ct).ConfigureAwait(false);
                break;
            }
            catch (HubException e) when (e.IsTransient)
            {
                // Failures count in a row: an attempt that brought bytes resets the count, so a long download over a
                // connection that drops now and then still finishes, while one that makes no progress gives up.
                var kept = PartLength(partPath);
                failures = kept > before ? 1 : failures + 1;
                if (failures > _options.MaxRetries)
                {
                    throw new HubException(e.Kind == HubErrorKind.ServerError ? HubErrorKind.ServerError : HubErrorKind.Interrupted,
                        $"Downloading '{file.Path}' of '{context.RepoId}' failed ({failures} attempt{(failures == 1 ? string.Empty : "s")} in a row): {e.Message} " +
                        $"The {ByteSize.Format(kept)} downloaded so far are kept: run the same pull again to resume.",
                        e, e.StatusCode);
                }

                tracker.Retrying(failures, e.Message);
                await Task.Delay(RetryDelay(failures), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Network failures arrive as HubException; what is left is the local disk.
                throw HubErrors.Storage(e, file.Path, _storeRoot, Math.Max(0, tracker.TotalBytes - tracker.BytesDone));
            }
        }

        long size;
        string actual;
        try
        {
            if (!File.Exists(partPath))
            {
                // A zero-byte file needs no request; it still has to exist.
                await File.WriteAllBytesAsync(partPath, [], ct).ConfigureAwait(false);
            }

            size = new FileInfo(partPath).Length;
            await hash.HashPrefixAsync(partPath, size, ct).ConfigureAwait(false);
            actual = hash.Finish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, file.Path, _storeRoot, tracker.TotalBytes - tracker.BytesDone);
        }

        if (file.Sha256 is { } expected && expected != actual)
        {
            TryDelete(partPath);
            throw new HubException(HubErrorKind.ChecksumMismatch,
                $"Checksum mismatch for '{file.Path}' of '{context.RepoId}': the hub announced sha256 {expected}, the download has {actual}. " +
                "The damaged file was deleted; run the pull again (if it fails the same way, the hub or a proxy is serving a wrong file).");
        }

        try
        {
            File.Move(partPath, finalPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, file.Path, _storeRoot, 0);
        }

        tracker.CompleteFile(size);
        return new ManifestFile(file.Path, size, actual);
    }

    /// <summary>
    /// One request: asks for the bytes after what <paramref name="partPath"/> holds and appends them. Returns when the
    /// part file holds the whole file; throws a transient <see cref="HubException"/> when the connection fails, so the
    /// caller retries from the new end of the part file.
    /// </summary>
    private async Task AttemptAsync(HubFile file, Uri url, string partPath, HashState hash, HubRequestContext context, PullTracker tracker, CancellationToken ct)
    {
        long existing = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
        if (file.Size is { } announced)
        {
            if (existing > announced)
            {
                // Not this file's bytes (or a different version): start over.
                File.Delete(partPath);
                existing = 0;
            }

            if (existing == announced)
            {
                tracker.SetFileBytes(existing);
                return;
            }
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0)
        {
            request.Headers.Range = new RangeHeaderValue(existing, null);
        }

        using var response = await _client.SendAsync(request, context, ct).ConfigureAwait(false);
        long offset;
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent:
                var range = response.Content.Headers.ContentRange;
                if (existing == 0 || range?.From != existing)
                {
                    // A range we did not ask for: drop what is on disk rather than splice bytes from two places.
                    TruncatePart(partPath, hash);
                    throw new HubException(HubErrorKind.Interrupted, $"{context.Endpoint} answered an unexpected byte range for '{file.Path}'.");
                }

                offset = existing;
                break;

            case HttpStatusCode.OK:
                // The server ignored the Range header (or none was sent): the body is the whole file.
                offset = 0;
                break;

            case HttpStatusCode.RequestedRangeNotSatisfiable:
                if (file.Size is null && response.Content.Headers.ContentRange?.Length == existing)
                {
                    tracker.SetFileBytes(existing);
                    return;
                }

                TruncatePart(partPath, hash);
                throw new HubException(HubErrorKind.Interrupted, $"{context.Endpoint} refused to resume '{file.Path}'; starting it over.");

            default:
                throw await HubErrors.FromResponseAsync(response, context, ct).ConfigureAwait(false);
        }

        FileStream stream;
        try
        {
            stream = new FileStream(partPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0, useAsync: true);
            stream.SetLength(offset);
            stream.Position = offset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, file.Path, _storeRoot, (file.Size ?? 0) - offset);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                await hash.HashPrefixAsync(partPath, offset, ct).ConfigureAwait(false);
                tracker.SetFileBytes(offset);
                using var body = await ReadBodyAsync(response, file, context, ct).ConfigureAwait(false);
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
                while (true)
                {
                    int read;
                    try
                    {
                        idle.CancelAfter(_options.ReadTimeout);
                        read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
                    {
                        throw new HubException(HubErrorKind.Interrupted,
                            $"No data arrived for '{file.Path}' in {_options.ReadTimeout.TotalSeconds:0.#} s.", e);
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException && !ct.IsCancellationRequested)
                    {
                        throw new HubException(HubErrorKind.Interrupted, $"Downloading '{file.Path}': {HubErrors.Describe(e)}.", e);
                    }

                    if (read == 0)
                    {
                        break;
                    }

                    if (file.Size is { } size && offset + read > size)
                    {
                        stream.SetLength(0);
                        hash.Reset();
                        throw new HubException(HubErrorKind.ChecksumMismatch,
                            $"'{file.Path}' of '{context.RepoId}' is larger than the {ByteSize.Format(size)} the hub announced; the download was discarded. Run the pull again.");
                    }

                    try
                    {
                        await stream.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                    }
                    catch (IOException e)
                    {
                        throw HubErrors.Storage(e, file.Path, _storeRoot, Math.Max(0, tracker.TotalBytes - tracker.BytesDone));
                    }

                    hash.Append(buffer.AsSpan(0, read), offset + read);
                    offset += read;
                    tracker.Advance(read);
                }

                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (file.Size is { } expected && offset < expected)
        {
            throw new HubException(HubErrorKind.Interrupted,
                $"The connection closed after {ByteSize.Format(offset)} of '{file.Path}' ({ByteSize.Format(expected)}).");
        }
    }

    /// <summary>
    /// A file under its own name was completed and verified by an earlier run of the same commit: it is kept, and hashed
    /// again because the manifest records every file's sha256. One that no longer matches is deleted and downloaded again.
    /// </summary>
    private async Task<ManifestFile?> TryReuseCompletedAsync(HubFile file, string finalPath, PullTracker tracker, CancellationToken ct)
    {
        try
        {
            if (!File.Exists(finalPath))
            {
                return null;
            }

            using var existing = new HashState();
            var length = await existing.HashPrefixAsync(finalPath, long.MaxValue, ct).ConfigureAwait(false);
            var sha = existing.Finish();
            if ((file.Size is null || file.Size == length) && (file.Sha256 is null || file.Sha256 == sha))
            {
                tracker.CompleteFile(length);
                return new ManifestFile(file.Path, length, sha);
            }

            File.Delete(finalPath);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw HubErrors.Storage(e, file.Path, _storeRoot, Math.Max(0, tracker.TotalBytes - tracker.BytesDone));
        }
    }

    private static long PartLength(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next pull of this commit re-checks it against the announced hash before keeping any of it.
        }
    }

    private static async Task<Stream> ReadBodyAsync(HttpResponseMessage response, HubFile file, HubRequestContext context, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
        {
            throw new HubException(HubErrorKind.Interrupted, $"Downloading '{file.Path}' of '{context.RepoId}': {HubErrors.Describe(e)}.", e);
        }
    }

    private static void TruncatePart(string partPath, HashState hash)
    {
        if (File.Exists(partPath))
        {
            File.Delete(partPath);
        }

        hash.Reset();
    }

    private TimeSpan RetryDelay(int failures)
    {
        var delay = _options.RetryDelay * Math.Pow(2, Math.Min(failures - 1, 10));
        return delay > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay;
    }

    /// <summary>
    /// A running sha256 over a prefix of the part file. Kept across retries so that a resume hashes only new bytes;
    /// when the prefix on disk differs from what was hashed (a fresh run, a restart), it re-reads the file.
    /// </summary>
    private sealed class HashState : IDisposable
    {
        private IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        /// <summary>How many bytes from the file's start have been hashed.</summary>
        public long Length { get; private set; }

        public void Append(ReadOnlySpan<byte> data, long newLength)
        {
            _hash.AppendData(data);
            Length = newLength;
        }

        public void Reset()
        {
            _hash.Dispose();
            _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Length = 0;
        }

        /// <summary>Makes the hash cover exactly the first <paramref name="length"/> bytes of <paramref name="path"/>; returns that length.</summary>
        public async Task<long> HashPrefixAsync(string path, long length, CancellationToken ct)
        {
            if (Length == length)
            {
                return length;
            }

            Reset();
            if (length == 0)
            {
                return 0;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, useAsync: true);
                long remaining = length;
                while (remaining > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(BufferSize, remaining)), ct).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    _hash.AppendData(buffer, 0, read);
                    remaining -= read;
                    Length += read;
                }

                return Length;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public string Finish()
        {
            Length = 0;
            return Convert.ToHexStringLower(_hash.GetHashAndReset());
        }

        public void Dispose() => _hash.Dispose();
    }
}
