using Microsoft.Extensions.Logging;

namespace Capa.Server.VectorStores;

internal static partial class VectorStoresLog
{
    [LoggerMessage(1801, LogLevel.Information, "Ingested {FileId} into {VectorStoreId}: {Chunks} chunks")]
    public static partial void Ingested(ILogger logger, string fileId, string vectorStoreId, int chunks);

    [LoggerMessage(1802, LogLevel.Warning, "Ingestion of {FileId} into {VectorStoreId} failed ({Code}): {Reason}")]
    public static partial void IngestFailed(ILogger logger, string fileId, string vectorStoreId, string code, string reason);

    [LoggerMessage(1803, LogLevel.Warning, "Vector store ingestion paused, retried shortly: {Reason}")]
    public static partial void WorkerFailed(ILogger logger, string reason);
}
