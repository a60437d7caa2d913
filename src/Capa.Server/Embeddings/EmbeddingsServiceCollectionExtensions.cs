using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Embeddings;

/// <summary>Registration of the embeddings area: <c>services.AddEmbeddings()</c> and <c>app.MapEmbeddings()</c>.</summary>
public static class EmbeddingsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the local encoders (options from the server's models directory unless an <see cref="EmbeddingOptions"/>
    /// is registered) and the endpoint.
    /// </summary>
    public static IServiceCollection AddEmbeddings(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => new EmbeddingOptions { ModelsDirectory = sp.GetRequiredService<CapaServerOptions>().ModelsDirectory });
        services.TryAddSingleton(sp => new EmbeddingService(
            sp.GetRequiredService<EmbeddingOptions>(), sp.GetRequiredService<ServerSettings>(), sp.GetRequiredService<ILogger<EmbeddingService>>()));
        services.TryAddSingleton<EmbeddingModelsProvider>();
        services.AddSingleton<Routing.IModelProvider>(sp => sp.GetRequiredService<EmbeddingModelsProvider>());
        services.TryAddSingleton<EmbeddingsEndpoint>();
        services.AddApiArea("embeddings", static app => app.MapEmbeddings());
        return services;
    }

    /// <summary>Maps <c>POST /v1/embeddings</c>.</summary>
    public static IEndpointRouteBuilder MapEmbeddings(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/embeddings", static context => context.RequestServices.GetRequiredService<EmbeddingsEndpoint>().HandleAsync(context));
        return endpoints;
    }
}
