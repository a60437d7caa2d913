using System.Text.Json;
using Capa.Server.Auth;
using Capa.Server.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Net.Http.Headers;

namespace Capa.Server.Playground;

/// <summary>
/// The playground: one page at <c>/</c> and <c>/playground</c> that drives this server's OpenAI API from the browser
/// and shows the SDK code of each request. Its files are embedded in the server assembly; it needs no key to load
/// (the page asks for one when the server requires it, and sends it only to the API).
/// </summary>
public static class PlaygroundEndpoints
{
    /// <summary>Where the page's files are served from.</summary>
    public const string AssetsPath = "/playground/assets/";

    /// <summary>Registers the embedded files.</summary>
    public static IServiceCollection AddPlayground(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<PlaygroundAssets>();
        return services;
    }

    /// <summary>Maps the page, its files and <c>/playground/features</c>.</summary>
    public static IEndpointRouteBuilder MapPlayground(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var anonymous = new ApiKeyMiddleware.AllowAnonymous();
        string[] methods = [HttpMethods.Get, HttpMethods.Head];

        // "/playground" also answers "/playground/": routing ignores a trailing slash.
        foreach (var path in (string[])["/", "/playground"])
        {
            endpoints.MapMethods(path, methods, static context => ServeAsync(context, PlaygroundAssets.IndexPath)).WithMetadata(anonymous);
        }

        endpoints.MapMethods(AssetsPath + "{**path}", methods, static context =>
            ServeAsync(context, context.Request.RouteValues["path"] as string ?? "")).WithMetadata(anonymous);

        endpoints.MapMethods("/playground/features", methods, static context =>
        {
            var services = context.RequestServices;
            var features = PlaygroundFeatures.Describe(
                services.GetRequiredService<EndpointDataSource>(),
                services.GetRequiredService<ServerSettings>(),
                services.GetRequiredService<ApiKeyValidator>());
            var bytes = JsonSerializer.SerializeToUtf8Bytes(features, PlaygroundJsonContext.Default.PlaygroundFeaturesResponse);
            PlaygroundHeaders.Apply(context.Response);
            context.Response.Headers.CacheControl = "no-store";
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = bytes.Length;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
        }).WithMetadata(anonymous);

        return endpoints;
    }

    private static Task ServeAsync(HttpContext context, string path)
    {
        var response = context.Response;
        if (!context.RequestServices.GetRequiredService<PlaygroundAssets>().TryGet(path, out var asset))
        {
            // The status code middleware turns this into OpenAI's 404 shape, like any unknown URL.
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        PlaygroundHeaders.Apply(response);
        response.Headers.ETag = asset.ETag;

        // The page is revalidated on every load so that an upgraded server never runs an old script.
        response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch is { Count: > 0 } ifNoneMatch
            && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)
            && tags.Any(t => t.Compare(new EntityTagHeaderValue(asset.ETag), useStrongComparison: false) || t.Equals(EntityTagHeaderValue.Any)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }
}
