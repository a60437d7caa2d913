using Capa.Server.Routing;

namespace Capa.Server.Embeddings;

/// <summary>
/// The local embedding models as routing and <c>/v1/models</c> see them: the encoders in the store (or
/// <c>capa-embedding-tiny</c>) and OpenAI's embedding ids that resolve to them, each once. Requests themselves are
/// served by <see cref="EmbeddingsEndpoint"/>, which resolves ids with <see cref="EmbeddingService"/>.
/// </summary>
internal sealed class EmbeddingModelsProvider(EmbeddingService embeddings, TimeProvider time) : IModelProvider
{
    // Listing reads the store's folders; routing may ask on every request, so the list is kept this long.
    private static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private IReadOnlyList<ProviderModel> _models = [];
    private DateTimeOffset _listedAt = DateTimeOffset.MinValue;

    public string Name => "local";

    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (now - _listedAt < CacheDuration)
            {
                return ValueTask.FromResult(_models);
            }
        }

        var models = embeddings.ListServed()
            .Select(m => new ProviderModel(m.Id, ModelCapabilities.Embeddings) { Created = Created(m.Directory) })
            .ToList();
        lock (_lock)
        {
            _models = models;
            _listedAt = now;
        }

        return ValueTask.FromResult<IReadOnlyList<ProviderModel>>(models);
    }

    private static long Created(string directory) =>
        Directory.Exists(directory) ? new DateTimeOffset(Directory.GetCreationTimeUtc(directory)).ToUnixTimeSeconds() : 0;
}
