namespace Capa.Server.Routing;

/// <summary>
/// Something that serves models: every modality's provider (<see cref="IChatProvider"/>, speech, transcription) lists
/// what it serves with the <see cref="ModelCapabilities"/> of each model, so one <see cref="ModelRouter"/> resolves ids,
/// aliases and upstreams for all of them and <c>/v1/models</c> lists them all.
/// </summary>
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

/// <summary>Where a request of one modality goes: a local provider of that modality, or an upstream to forward it to.</summary>
/// <typeparam name="TProvider">The modality's provider interface.</typeparam>
/// <param name="Local">The local provider, or null when the request goes upstream.</param>
/// <param name="Upstream">The upstream, when no local provider serves the id.</param>
/// <param name="RequestedModel">The id the client asked for.</param>
/// <param name="TargetModel">The id the provider or upstream serves (an alias's target).</param>
/// <param name="Model">The model's description, when known.</param>
public sealed record ModalityRoute<TProvider>(TProvider? Local, Providers.Upstream.UpstreamChatProvider? Upstream, string RequestedModel, string TargetModel, ProviderModel? Model)
    where TProvider : class, IModelProvider;
