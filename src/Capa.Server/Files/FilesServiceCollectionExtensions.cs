using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Files;

/// <summary>Registration of the Files API: <c>services.AddFiles()</c> and <c>app.MapFiles()</c>.</summary>
internal static class FilesServiceCollectionExtensions
{
    /// <summary>Registers the file service (state opened on first use) and the endpoint.</summary>
    public static IServiceCollection AddFiles(this IServiceCollection services)
    {
        services.TryAddSingleton<FileService>();
        services.AddHostedService(sp => sp.GetRequiredService<FileService>());
        services.TryAddSingleton<FilesEndpoint>();
        services.AddApiArea("files", static app => app.MapFiles());
        return services;
    }

    /// <summary>Maps <c>/v1/files</c>.</summary>
    public static IEndpointRouteBuilder MapFiles(this IEndpointRouteBuilder app)
    {
        static FilesEndpoint F(HttpContext c) => c.RequestServices.GetRequiredService<FilesEndpoint>();
        static string Id(HttpContext c) => (string)c.Request.RouteValues["id"]!;

        app.MapPost("/v1/files", static c => F(c).UploadAsync(c));
        app.MapGet("/v1/files", static c => F(c).ListAsync(c));
        app.MapGet("/v1/files/{id}", static c => F(c).GetAsync(c, Id(c)));
        app.MapDelete("/v1/files/{id}", static c => F(c).DeleteAsync(c, Id(c)));
        app.MapGet("/v1/files/{id}/content", static c => F(c).ContentAsync(c, Id(c)));
        return app;
    }
}
