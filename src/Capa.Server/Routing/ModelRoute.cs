namespace Capa.Server.Routing;

/// <summary>Where a requested model id goes.</summary>
/// <param name="Provider">The provider that serves it: one of the area the request was resolved for, or an upstream (<see cref="Capa.Server.Providers.Upstream.UpstreamChatProvider"/>, which serves every area).</param>
/// <param name="RequestedModel">The id the client asked for (echoed in responses).</param>
/// <param name="TargetModel">The id the provider serves; differs from <paramref name="RequestedModel"/> for aliases.</param>
/// <param name="Model">The provider's description of the model, when it lists it; <see langword="null"/> for ids an upstream serves by wildcard.</param>
public sealed record ModelRoute(IModelProvider Provider, string RequestedModel, string TargetModel, ProviderModel? Model);
