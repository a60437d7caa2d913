namespace Capa.Models.Hub;

/// <summary>What a pull is doing.</summary>
public enum PullStage
{
    /// <summary>The hub is being asked for the repository's file list (the first request of a pull).</summary>
    Resolving,

    /// <summary>A request failed and is about to be tried again; <see cref="PullProgress.Note"/> says why, <see cref="PullProgress.Attempt"/> which retry.</summary>
    Retrying,

    /// <summary>Bytes of <see cref="PullProgress.File"/> are arriving (or being checked, when resumed).</summary>
    Downloading,

    /// <summary><see cref="PullProgress.File"/> is complete and verified.</summary>
    FileCompleted,

    /// <summary>Every file is verified; the model is being moved into the store.</summary>
    Installing,
}

/// <summary>A pull's progress, reported a few times per second and at each file's end.</summary>
/// <param name="Stage">What the pull is doing.</param>
/// <param name="File">The repository path of the current file (e.g. <c>onnx/model_q4.onnx</c>); empty while installing.</param>
/// <param name="FileBytesDone">Bytes of the current file on disk.</param>
/// <param name="FileTotalBytes">The current file's size, when the hub said.</param>
/// <param name="BytesDone">Bytes of all files on disk (including those kept from an interrupted pull).</param>
/// <param name="TotalBytes">The size of all files (those the hub gave a size for).</param>
/// <param name="FileIndex">The current file's index, from 0.</param>
/// <param name="FileCount">How many files the pull downloads.</param>
/// <param name="BytesPerSecond">Download speed over the last few seconds.</param>
public sealed record PullProgress(
    PullStage Stage,
    string File,
    long FileBytesDone,
    long? FileTotalBytes,
    long BytesDone,
    long TotalBytes,
    int FileIndex,
    int FileCount,
    double BytesPerSecond)
{
    /// <summary>For <see cref="PullStage.Retrying"/>: what failed, for the user.</summary>
    public string? Note { get; init; }

    /// <summary>For <see cref="PullStage.Retrying"/>: the retry about to be made, from 1.</summary>
    public int Attempt { get; init; }

    /// <summary>The report that a pull has started asking the hub.</summary>
    internal static PullProgress Resolving() => new(PullStage.Resolving, string.Empty, 0, null, 0, 0, 0, 0, 0);

    /// <summary>A retry of a request that is not a file download (the file list).</summary>
    internal static PullProgress Retrying(int attempt, string note) =>
        new(PullStage.Retrying, string.Empty, 0, null, 0, 0, 0, 0, 0) { Attempt = attempt, Note = note };

    /// <summary>Time left at the current speed; <see langword="null"/> while the speed is unknown.</summary>
    public TimeSpan? Remaining => BytesPerSecond > 0 && TotalBytes >= BytesDone
        ? TimeSpan.FromSeconds(Math.Min((TotalBytes - BytesDone) / BytesPerSecond, TimeSpan.MaxValue.TotalSeconds / 2))
        : null;
}
