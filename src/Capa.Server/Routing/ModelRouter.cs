using Capa.Server.Providers.Upstream;

namespace Capa.Server.Routing;

/// <summary>
/// Chooses the provider for a model id. Order: a model a local provider lists; a configured alias (its target resolved
/// without further aliasing); a model an upstream lists by name; a built-in alias served by a local model with the
/// capability it needs; finally an upstream that serves any id (<c>*</c>), which receives the id unchanged.
/// </summary>
public sealed class ModelRouter
{
    private readonly IReadOnlyList<IModelProvider> _local;
    private readonly IReadOnlyList<UpstreamChatProvider> _upstreams;
    private readonly IReadOnlyDictionary<string, string> _aliases;

    internal ModelRouter(IEnumerable<IModelProvider> localProviders, IReadOnlyList<UpstreamChatProvider> upstreams, IReadOnlyDictionary<string, string> aliases)
    {
        _local = localProviders.Where(p => p is not UpstreamChatProvider).Distinct().ToArray();
        _upstreams = upstreams;
        _aliases = aliases;
    }

    /// <summary>Resolves a model id for chat; <see langword="null"/> when nothing serves it (answer 404).</summary>
    public ValueTask<ModelRoute?> ResolveAsync(string modelId, CancellationToken cancellationToken) =>
        ResolveAsync<IChatProvider>(modelId, ModelCapabilities.None, cancellationToken);

    /// <summary>Resolves a model id for chat, needing <paramref name="needed"/>; see <see cref="ResolveAsync{TProvider}"/>.</summary>
    public ValueTask<ModelRoute?> ResolveAsync(string modelId, ModelCapabilities needed, CancellationToken cancellationToken) =>
        ResolveAsync<IChatProvider>(modelId, needed, cancellationToken);

    /// <summary>
    /// Resolves a model id among the local providers of one API area (<typeparamref name="TProvider"/>, e.g.
    /// <see cref="IChatProvider"/>), then the upstreams, for a request that needs <paramref name="needed"/> beyond what
    /// the id stands for (e.g. chat with an image needs <see cref="ModelCapabilities.Vision"/>). A local model without
    /// them gives way to an upstream that serves the id; with none, its route is returned and the caller answers
    /// OpenAI's 400 for the missing capability. A built-in alias resolves only to a local model that has them.
    /// </summary>
    /// <returns>
    /// The route, whose provider is a <typeparamref name="TProvider"/> or an <see cref="UpstreamChatProvider"/> (forward
    /// the request to it); <see langword="null"/> when nothing serves the id (answer 404).
    /// </returns>
    public async ValueTask<ModelRoute?> ResolveAsync<TProvider>(string modelId, ModelCapabilities needed, CancellationToken cancellationToken)
        where TProvider : class, IModelProvider
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var local = _local.OfType<TProvider>().ToArray();
        var route = await ResolveCoreAsync(local, modelId, needed, cancellationToken).ConfigureAwait(false);
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

    private async ValueTask<ModelRoute?> ResolveCoreAsync(IReadOnlyList<IModelProvider> local, string modelId, ModelCapabilities needed, CancellationToken cancellationToken)
    {
        var direct = await ResolveDirectAsync(local, modelId, modelId, cancellationToken).ConfigureAwait(false);
        if (direct is not null)
        {
            return direct;
        }

        if (_aliases.TryGetValue(modelId, out var target))
        {
            var aliased = await ResolveDirectAsync(local, modelId, target, cancellationToken).ConfigureAwait(false)
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
        if (ModelAliases.TryGet(modelId, out var aliasNeeds))
        {
            // Images reach a vision model only through the aliases whose OpenAI models read them; through any other
            // alias they stay with its chat model, whose route answers OpenAI's 400 naming the model.
            var all = aliasNeeds | (ModelAliases.TakesImages(modelId) ? needed : needed & ~ModelCapabilities.Vision);
            foreach (var provider in local)
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

    /// <summary>The models to list: every local model of every area, upstream models named in configuration, and aliases that resolve.</summary>
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

            var route = await ResolveAsync<IModelProvider>(alias, ModelCapabilities.None, cancellationToken).ConfigureAwait(false);

            // An alias that only a wildcard upstream would take is not listed: nothing is known about it.
            if (route?.Model is { } model)
            {
                seen.Add(alias);
                list.Add(model with { Id = alias, Capabilities = model.Capabilities | await ImageCapabilityAsync(alias, cancellationToken).ConfigureAwait(false) });
            }
        }

        return list;
    }

    /// <summary>
    /// <see cref="ModelCapabilities.Vision"/> when <paramref name="alias"/> takes images and a request holding one would
    /// reach a model that reads it (text goes to the chat model it is listed with; images to a vision model).
    /// </summary>
    private async ValueTask<ModelCapabilities> ImageCapabilityAsync(string alias, CancellationToken cancellationToken)
    {
        if (!ModelAliases.TakesImages(alias))
        {
            return ModelCapabilities.None;
        }

        var route = await ResolveAsync<IChatProvider>(alias, ModelCapabilities.Vision, cancellationToken).ConfigureAwait(false);
        return route?.Model is { } model && (model.Capabilities & ModelCapabilities.Vision) != 0 ? ModelCapabilities.Vision : ModelCapabilities.None;
    }

    private async ValueTask<ModelRoute?> ResolveDirectAsync(IReadOnlyList<IModelProvider> local, string requested, string target, CancellationToken cancellationToken)
    {
        foreach (var provider in local)
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
