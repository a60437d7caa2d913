using Capa.Server.Providers.Upstream;

namespace Capa.Server.Routing;

/// <summary>
/// Chooses the provider for a model id. Order: a model a local provider lists; a configured alias (its target resolved
/// without further aliasing); a model an upstream lists by name; a built-in alias served by a local model with the
/// capability it needs; finally an upstream that serves any id (<c>*</c>), which receives the id unchanged.
/// </summary>
public sealed class ModelRouter
{
    private readonly IReadOnlyList<IChatProvider> _local;
    private readonly IReadOnlyList<UpstreamChatProvider> _upstreams;
    private readonly IReadOnlyDictionary<string, string> _aliases;
    private readonly IReadOnlyList<IModelProvider> _modalities;

    internal ModelRouter(IEnumerable<IChatProvider> localProviders, IReadOnlyList<UpstreamChatProvider> upstreams, IReadOnlyDictionary<string, string> aliases, IEnumerable<IModelProvider>? modalityProviders = null)
    {
        _local = localProviders.Where(p => p is not UpstreamChatProvider).ToArray();
        _upstreams = upstreams;
        _aliases = aliases;
        _modalities = (modalityProviders ?? []).Where(p => p is not IChatProvider).ToArray();
    }

    /// <summary>
    /// Resolves a model id for a modality other than chat (speech, transcription): a model a local
    /// <typeparamref name="TProvider"/> lists with <paramref name="capability"/> (OpenAI ids such as <c>tts-1</c> or
    /// <c>whisper-1</c> are listed by the provider that stands in for them); a configured alias whose target a local
    /// provider lists or an upstream names; an upstream that names the id; a built-in alias served by the first local
    /// model with the capability; an upstream that serves any id. <see langword="null"/> when nothing serves it (404).
    /// </summary>
    public async ValueTask<ModalityRoute<TProvider>?> ResolveModalityAsync<TProvider>(string modelId, ModelCapabilities capability, CancellationToken cancellationToken)
        where TProvider : class, IModelProvider
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var locals = _modalities.OfType<TProvider>().ToArray();
        async ValueTask<ModalityRoute<TProvider>?> LocalAsync(string target)
        {
            foreach (var provider in locals)
            {
                foreach (var model in await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (string.Equals(model.Id, target, StringComparison.Ordinal) && (model.Capabilities & capability) == capability)
                    {
                        return new ModalityRoute<TProvider>(provider, null, modelId, target, model);
                    }
                }
            }

            return null;
        }

        ModalityRoute<TProvider>? Upstream(string target, bool wildcard)
        {
            foreach (var upstream in _upstreams)
            {
                if (upstream.ServesExplicitly(target) || (wildcard && upstream.Options.ServesAnyModel))
                {
                    return new ModalityRoute<TProvider>(null, upstream, modelId, target, upstream.Options.ServesAnyModel && !upstream.ServesExplicitly(target) ? null : upstream.Describe(target) with { Capabilities = capability });
                }
            }

            return null;
        }

        if (await LocalAsync(modelId).ConfigureAwait(false) is { } direct)
        {
            return direct;
        }

        if (_aliases.TryGetValue(modelId, out var aliased)
            && (await LocalAsync(aliased).ConfigureAwait(false) ?? Upstream(aliased, wildcard: false)) is { } viaAlias)
        {
            return viaAlias;
        }

        if (Upstream(modelId, wildcard: false) is { } named)
        {
            return named;
        }

        if (ModelAliases.BuiltIn.TryGetValue(modelId, out var needs) && (needs & capability) == capability)
        {
            foreach (var provider in locals)
            {
                var models = await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false);
                if (FirstWith(models, needs | capability) is { } match)
                {
                    return new ModalityRoute<TProvider>(provider, null, modelId, match.Id, match);
                }
            }
        }

        return Upstream(modelId, wildcard: true);
    }

    /// <summary>Resolves a model id; <see langword="null"/> when nothing serves it (answer 404).</summary>
    public ValueTask<ModelRoute?> ResolveAsync(string modelId, CancellationToken cancellationToken) =>
        ResolveAsync(modelId, ModelCapabilities.None, cancellationToken);

    /// <summary>
    /// Resolves a model id for a request that needs <paramref name="needed"/> beyond what the id stands for (e.g. chat with
    /// an image needs <see cref="ModelCapabilities.Vision"/>). A local model without them gives way to an upstream that
    /// serves the id; with none, its route is returned and the caller answers OpenAI's 400 for the missing capability.
    /// A built-in alias resolves only to a local model that has them.
    /// </summary>
    public async ValueTask<ModelRoute?> ResolveAsync(string modelId, ModelCapabilities needed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var route = await ResolveCoreAsync(modelId, needed, cancellationToken).ConfigureAwait(false);
        if (route is null || needed == ModelCapabilities.None || route.Provider is UpstreamChatProvider
            || route.Model is not { } model || (model.Capabilities & needed) == needed)
        {
            return route;
        }

        return ResolveUpstream(modelId, route.TargetModel) ?? route;
    }

    /// <summary>Whether a route's model lacks some of <paramref name="needed"/> (unknown models, served by wildcard, lack nothing).</summary>
    public static bool Lacks(ModelRoute route, ModelCapabilities needed)
    {
        ArgumentNullException.ThrowIfNull(route);
        return route.Model is { } model && (model.Capabilities & needed) != needed;
    }

    private ModelRoute? ResolveUpstream(string requested, string target)
    {
        foreach (var upstream in _upstreams)
        {
            if (upstream.ServesExplicitly(target))
            {
                return new ModelRoute(upstream, requested, target, upstream.Describe(target));
            }
        }

        foreach (var upstream in _upstreams)
        {
            if (upstream.ServesExplicitly(requested))
            {
                return new ModelRoute(upstream, requested, requested, upstream.Describe(requested));
            }
        }

        return ResolveWildcard(requested, requested);
    }

    private async ValueTask<ModelRoute?> ResolveCoreAsync(string modelId, ModelCapabilities needed, CancellationToken cancellationToken)
    {
        var direct = await ResolveDirectAsync(modelId, modelId, cancellationToken).ConfigureAwait(false);
        if (direct is not null)
        {
            return direct;
        }

        if (_aliases.TryGetValue(modelId, out var target))
        {
            var aliased = await ResolveDirectAsync(modelId, target, cancellationToken).ConfigureAwait(false)
                ?? ResolveWildcard(modelId, target);
            if (aliased is not null)
            {
                return aliased;
            }
        }

        foreach (var upstream in _upstreams)
        {
            if (upstream.ServesExplicitly(modelId))
            {
                return new ModelRoute(upstream, modelId, modelId, upstream.Describe(modelId));
            }
        }

        ModelRoute? lacking = null;
        if (ModelAliases.BuiltIn.TryGetValue(modelId, out var aliasNeeds))
        {
            var all = aliasNeeds | needed;
            foreach (var provider in _local)
            {
                var models = await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false);
                var match = FirstWith(models, all);
                if (match is not null)
                {
                    return new ModelRoute(provider, modelId, match.Id, match);
                }

                // A local model the alias stands for, but without what this request needs: used only when no upstream
                // serves the id, so that the answer is the missing capability's 400 rather than a 404.
                if (lacking is null && FirstWith(models, aliasNeeds) is { } partial)
                {
                    lacking = new ModelRoute(provider, modelId, partial.Id, partial);
                }
            }
        }

        return ResolveWildcard(modelId, modelId) ?? lacking;
    }

    private static ProviderModel? FirstWith(IReadOnlyList<ProviderModel> models, ModelCapabilities capabilities) =>
        models.Where(m => (m.Capabilities & capabilities) == capabilities).OrderBy(m => m.Id, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>The models to list: every local model, upstream models named in configuration, and aliases that resolve.</summary>
    public async ValueTask<IReadOnlyList<ProviderModel>> ListAsync(CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<ProviderModel>();
        foreach (var provider in _local)
        {
            foreach (var model in await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(model.Id))
                {
                    list.Add(model);
                }
            }
        }

        foreach (var provider in _modalities)
        {
            foreach (var model in await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(model.Id))
                {
                    list.Add(model);
                }
            }
        }

        foreach (var upstream in _upstreams)
        {
            foreach (var id in upstream.Options.Models)
            {
                if (id != "*" && seen.Add(id))
                {
                    list.Add(upstream.Describe(id));
                }
            }
        }

        foreach (var alias in _aliases.Keys.Concat(ModelAliases.BuiltIn.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (seen.Contains(alias))
            {
                continue;
            }

            var route = await ResolveAsync(alias, cancellationToken).ConfigureAwait(false);

            // An alias that only a wildcard upstream would take is not listed: nothing is known about it.
            if (route?.Model is { } model)
            {
                seen.Add(alias);
                list.Add(model with { Id = alias });
            }
        }

        return list;
    }

    private async ValueTask<ModelRoute?> ResolveDirectAsync(string requested, string target, CancellationToken cancellationToken)
    {
        foreach (var provider in _local)
        {
            var models = await provider.GetModelsAsync(cancellationToken).ConfigureAwait(false);
            foreach (var model in models)
            {
                if (string.Equals(model.Id, target, StringComparison.Ordinal))
                {
                    return new ModelRoute(provider, requested, target, model);
                }
            }
        }

        if (!string.Equals(requested, target, StringComparison.Ordinal))
        {
            foreach (var upstream in _upstreams)
            {
                if (upstream.ServesExplicitly(target))
                {
                    return new ModelRoute(upstream, requested, target, upstream.Describe(target));
                }
            }
        }

        return null;
    }

    private ModelRoute? ResolveWildcard(string requested, string target)
    {
        foreach (var upstream in _upstreams)
        {
            if (upstream.Options.ServesAnyModel)
            {
                return new ModelRoute(upstream, requested, target, null);
            }
        }

        return null;
    }
}
