namespace Capa.Server.Routing;

/// <summary>Where a requested model id goes.</summary>
/// <param name="Provider">The provider that serves it.</param>
/// <param name="RequestedModel">The id the client asked for (echoed in responses).</param>
/// <param name="TargetModel">The id the provider serves; differs from <paramref name="RequestedModel"/> for aliases.</param>
/// <param name="Model">The provider's description of the model, when it lists it; <see langword="null"/> for ids an upstream serves by wildcard.</param>
public sealed record ModelRoute(IChatProvider Provider, string RequestedModel, string TargetModel, ProviderModel? Model);
