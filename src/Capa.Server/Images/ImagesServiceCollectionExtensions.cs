using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Capa.Server.Hosting;
using Capa.Server.Routing;

namespace Capa.Server.Images;

/// <summary>Registration of the image area: <c>services.AddImages(...)</c> and <c>app.MapImages()</c>.</summary>
public static class ImagesServiceCollectionExtensions
{
    /// <summary>Registers the local diffusion provider, the file store behind image URLs and its cleanup job.</summary>
    public static IServiceCollection AddImages(this IServiceCollection services, ImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        // The config file's images object, when the server has one, refines what the host passed.
        services.TryAddSingleton(sp => sp.GetService<Configuration.ServerSettings>()?.Images?.ApplyTo(options) ?? options);
        services.TryAddSingleton(sp => new LocalImageProvider(sp.GetRequiredService<ImageOptions>(), sp.GetRequiredService<ILogger<LocalImageProvider>>()));
        services.TryAddSingleton<IImageProvider>(sp => sp.GetRequiredService<LocalImageProvider>());
        services.AddSingleton<IModelProvider>(sp => sp.GetRequiredService<LocalImageProvider>());
        services.TryAddSingleton<ImageFileStore>();
        services.AddSingleton<IHostedService, ImageFileCleanup>();
        services.TryAddSingleton<ImagePromptReviser>();
        services.TryAddSingleton<ImagesEndpoint>();
        services.AddApiArea("images", static endpoints => endpoints.MapImages());
        return services;
    }

    /// <summary>
    /// Maps <c>POST /v1/images/generations</c>, <c>/edits</c>, <c>/variations</c> and <c>GET /images/{name}</c> (done by
    /// <see cref="AddImages"/> through its API area; without it those paths stay with the upstream pass-through).
    /// </summary>
    public static IEndpointRouteBuilder MapImages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/images/generations", static context => Endpoint(context).HandleGenerationsAsync(context));
        endpoints.MapPost("/v1/images/edits", static context => Endpoint(context).HandleEditsAsync(context, variation: false));
        endpoints.MapPost("/v1/images/variations", static context => Endpoint(context).HandleEditsAsync(context, variation: true));

        // The unguessable name is the credential, as in OpenAI's signed image links: no API key is asked for.
        endpoints.MapGet(ImagesEndpoint.FilesPath + "/{name}", static context =>
                Endpoint(context).ServeFileAsync(context, (string)context.GetRouteValue("name")!))
            .WithMetadata(new Auth.ApiKeyMiddleware.AllowAnonymous());
        return endpoints;
    }

    private static ImagesEndpoint Endpoint(HttpContext context) => context.RequestServices.GetRequiredService<ImagesEndpoint>();
}
