using Microsoft.Extensions.Logging;

namespace Capa.Server.Vision;

/// <summary>Log messages of image input. URLs are logged by host only (their paths and queries may hold secrets).</summary>
internal static partial class VisionLog
{
    [LoggerMessage(1101, LogLevel.Warning, "Image fetch refused: {Host} resolves to {Address} ({Kind})")]
    public static partial void AddressRefused(ILogger logger, string host, string address, string kind);

    [LoggerMessage(1102, LogLevel.Information, "Image {Param} not loaded ({Failure}): {Detail}")]
    public static partial void NotLoaded(ILogger logger, string param, string failure, string detail);

    [LoggerMessage(1103, LogLevel.Debug, "Image download from {Host} failed: {Error}: {Message}")]
    public static partial void DownloadFailed(ILogger logger, string host, string error, string message);

    [LoggerMessage(1104, LogLevel.Debug, "Image {Param}: {Format} {Width}x{Height}, {Bytes} bytes")]
    public static partial void Loaded(ILogger logger, string param, string format, int width, int height, int bytes);
}
