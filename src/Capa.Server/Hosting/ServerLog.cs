using Microsoft.Extensions.Logging;

namespace Capa.Server.Hosting;

/// <summary>The server's log messages. Never pass API keys or request bodies to them.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "{RequestId} {Method} {Path} -> {Status} in {ElapsedMs:F1} ms")]
    public static partial void RequestFinished(ILogger logger, string requestId, string method, string path, int status, double elapsedMs);

    [LoggerMessage(2, LogLevel.Information, "{RequestId} {Method} {Path} cancelled by the client after {ElapsedMs:F1} ms")]
    public static partial void RequestAborted(ILogger logger, string requestId, string method, string path, double elapsedMs);

    [LoggerMessage(3, LogLevel.Error, "{RequestId} unhandled error")]
    public static partial void UnhandledError(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "{RequestId} model {RequestedModel} -> {Provider}:{TargetModel} (stream: {Stream})")]
    public static partial void Routed(ILogger logger, string requestId, string requestedModel, string provider, string targetModel, bool stream);

    [LoggerMessage(5, LogLevel.Warning, "{RequestId} upstream {Upstream} answered {Status}")]
    public static partial void UpstreamError(ILogger logger, string requestId, string upstream, int status);

    [LoggerMessage(6, LogLevel.Warning, "{RequestId} upstream {Upstream} failed: {Reason}")]
    public static partial void UpstreamFailed(ILogger logger, string requestId, string upstream, string reason);

    [LoggerMessage(7, LogLevel.Warning, "{RequestId} stream ended with an error after it started: {Status} {Message}")]
    public static partial void StreamFailed(ILogger logger, string requestId, int status, string message);

    [LoggerMessage(8, LogLevel.Warning, "{RequestId} rejected with {Status} ({Code})")]
    public static partial void Rejected(ILogger logger, string requestId, int status, string? code);

    [LoggerMessage(9, LogLevel.Warning, "{RequestId} request could not be read: {Status} {Reason}")]
    public static partial void RequestUnreadable(ILogger logger, string requestId, int status, string reason);

    [LoggerMessage(10, LogLevel.Information, "{RequestId} context too long for the model: truncation auto dropped the {Dropped} earliest item(s)")]
    public static partial void ContextTruncated(ILogger logger, string requestId, int dropped);
}
