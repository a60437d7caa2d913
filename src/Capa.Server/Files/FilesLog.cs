using Microsoft.Extensions.Logging;

namespace Capa.Server.Files;

internal static partial class FilesLog
{
    [LoggerMessage(1601, LogLevel.Information, "Stored file {FileId} ({Bytes} bytes, {Purpose})")]
    public static partial void Stored(ILogger logger, string fileId, long bytes, string purpose);

    [LoggerMessage(1602, LogLevel.Information, "Removed {Count} expired or orphaned file contents")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(1603, LogLevel.Warning, "File sweep failed, retried within the hour: {Reason}")]
    public static partial void SweepFailed(ILogger logger, string reason);

    [LoggerMessage(1604, LogLevel.Information, "File contents are kept in {Location}")]
    public static partial void ContentAt(ILogger logger, string location);

    [LoggerMessage(1605, LogLevel.Error, "The file storage failed: {Reason}")]
    public static partial void StorageFailed(ILogger logger, string reason);
}
