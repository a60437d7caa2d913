using Microsoft.Extensions.Logging;

namespace Capa.Server.Embeddings;

internal static partial class EmbeddingsLog
{
    [LoggerMessage(1701, LogLevel.Information, "Embedding model {ModelId} loaded ({Dimensions} dimensions, {Pooling} pooling)")]
    public static partial void Loaded(ILogger logger, string modelId, int dimensions, string pooling);

    [LoggerMessage(1702, LogLevel.Warning, "{Banner}")]
    public static partial void TinyModel(ILogger logger, string banner);

    [LoggerMessage(1703, LogLevel.Information, "{RequestId} embeddings {Model} -> {Served}: {Inputs} inputs, {Tokens} tokens")]
    public static partial void Embedded(ILogger logger, string requestId, string model, string served, int inputs, int tokens);
}
