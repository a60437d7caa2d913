using System.Diagnostics;

namespace Capa.Models.Hub;

/// <summary>
/// Keeps a pull's byte counts and speed, and reports them to the caller's <see cref="IProgress{T}"/> at most every
/// <see cref="ReportInterval"/> (and always at each file's end), so that a fast download does not flood a console.
/// </summary>
internal sealed class PullTracker
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan SpeedWindow = TimeSpan.FromSeconds(5);

    private readonly IProgress<PullProgress>? _progress;
    private readonly IReadOnlyList<HubFile> _files;
    private readonly long[] _onDiskAtStart;
    private readonly Queue<(long Timestamp, long Bytes)> _samples = new();
    private long _totalBytes;
    private long _completedBytes;
    private long _pendingOnDisk;
    private long _fileBytes;
    private long _transferred;
    private long _lastReport;
    private int _fileIndex;

    public PullTracker(IReadOnlyList<HubFile> files, long[] onDiskAtStart, IProgress<PullProgress>? progress)
    {
        _files = files;
        _onDiskAtStart = onDiskAtStart;
        _progress = progress;
        _totalBytes = files.Sum(f => f.Size ?? 0);
        _pendingOnDisk = onDiskAtStart.Sum();
    }

    /// <summary>Bytes on disk for the whole pull.</summary>
    public long BytesDone => _completedBytes + _fileBytes + _pendingOnDisk;

    /// <summary>Bytes of all files whose size is known.</summary>
    public long TotalBytes => _totalBytes;

    public void BeginFile(int index)
    {
        _fileIndex = index;
        _pendingOnDisk -= _onDiskAtStart[index];
        _fileBytes = 0;
    }

    /// <summary>The current file holds <paramref name="bytes"/> (after a resume, a restart, or hashing what was on disk).</summary>
    public void SetFileBytes(long bytes)
    {
        _fileBytes = bytes;
        Report(PullStage.Downloading, force: false);
    }

    /// <summary><paramref name="bytes"/> more arrived from the network.</summary>
    public void Advance(int bytes)
    {
        _fileBytes += bytes;
        _transferred += bytes;
        Report(PullStage.Downloading, force: false);
    }

    public void CompleteFile(long size)
    {
        if (_files[_fileIndex].Size is null)
        {
            _totalBytes += size;
        }

        _completedBytes += size;
        _fileBytes = 0;
        Report(PullStage.FileCompleted, force: true, fileBytes: size);
    }

    public void Installing() => Report(PullStage.Installing, force: true);

    /// <summary>The current file's download failed and is about to be tried again.</summary>
    public void Retrying(int attempt, string note) => Report(PullStage.Retrying, force: true, attempt: attempt, note: note);

    private void Report(PullStage stage, bool force, long? fileBytes = null, int attempt = 0, string? note = null)
    {
        if (_progress is null)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        if (!force && _lastReport != 0 && Stopwatch.GetElapsedTime(_lastReport, now) < ReportInterval)
        {
            return;
        }

        _lastReport = now;
        var file = _files[_fileIndex];
        _progress.Report(new PullProgress(
            stage,
            stage == PullStage.Installing ? string.Empty : file.Path,
            fileBytes ?? _fileBytes,
            file.Size ?? fileBytes,
            BytesDone,
            _totalBytes,
            _fileIndex,
            _files.Count,
            Speed(now))
        { Attempt = attempt, Note = note });
    }

    /// <summary>Network bytes per second over the last few seconds (bytes kept from an earlier run do not count).</summary>
    private double Speed(long now)
    {
        _samples.Enqueue((now, _transferred));
        while (_samples.Count > 2 && Stopwatch.GetElapsedTime(_samples.Peek().Timestamp, now) > SpeedWindow)
        {
            _samples.Dequeue();
        }

        var (firstTime, firstBytes) = _samples.Peek();
        var seconds = Stopwatch.GetElapsedTime(firstTime, now).TotalSeconds;
        return seconds < 0.2 ? 0 : (_transferred - firstBytes) / seconds;
    }
}
