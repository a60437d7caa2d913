namespace Capa.Server.Routing;

/// <summary>
/// Serves some model ids for one API area (chat, speech, transcription, images, embeddings…). Each area derives its own
/// provider interface from this one (e.g. <see cref="IChatProvider"/>); the <see cref="ModelRouter"/> resolves a model id
/// among the providers of the area a request belongs to, then among the configured upstreams.
/// </summary>
/// <remarks>
/// Register a local provider of any area as an <see cref="IModelProvider"/> singleton (besides its area interface), so
/// that routing and <c>/v1/models</c> see it; providers must be thread-safe.
/// </remarks>
public interface IModelProvider
{
    /// <summary>A short name for logs, e.g. <c>local</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The models this provider serves now. Called per request while routing, so keep it cheap (cache, and refresh
    /// when the store changes).
    /// </summary>
    ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken);
}
