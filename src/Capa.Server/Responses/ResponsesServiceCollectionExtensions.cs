using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Responses;

/// <summary>Registration of the Responses and Conversations APIs.</summary>
internal static class ResponsesServiceCollectionExtensions
{
    /// <summary>Registers the store (created on first use) and the endpoints.</summary>
    public static IServiceCollection AddResponses(this IServiceCollection services)
    {
        services.TryAddSingleton<ResponseStoreAccessor>();
        services.TryAddSingleton<BackgroundResponses>();
        services.AddHostedService(sp => sp.GetRequiredService<BackgroundResponses>());
        services.TryAddSingleton<ResponsesEndpoint>();
        services.TryAddSingleton<ConversationsEndpoint>();
        return services;
    }

    /// <summary>Maps <c>/v1/responses</c> and <c>/v1/conversations</c>.</summary>
    public static IEndpointRouteBuilder MapResponses(this IEndpointRouteBuilder app)
    {
        static ResponsesEndpoint R(HttpContext c) => c.RequestServices.GetRequiredService<ResponsesEndpoint>();
        static ConversationsEndpoint C(HttpContext c) => c.RequestServices.GetRequiredService<ConversationsEndpoint>();
        static string Id(HttpContext c, string name = "id") => (string)c.Request.RouteValues[name]!;

        app.MapPost("/v1/responses", static c => R(c).CreateAsync(c));
        app.MapGet("/v1/responses/{id}", static c => R(c).GetAsync(c, Id(c)));
        app.MapDelete("/v1/responses/{id}", static c => R(c).DeleteAsync(c, Id(c)));
        app.MapPost("/v1/responses/{id}/cancel", static c => R(c).CancelAsync(c, Id(c)));
        app.MapGet("/v1/responses/{id}/input_items", static c => R(c).ListInputItemsAsync(c, Id(c)));

        app.MapPost("/v1/conversations", static c => C(c).CreateAsync(c));
        app.MapGet("/v1/conversations/{id}", static c => C(c).GetAsync(c, Id(c)));
        app.MapPost("/v1/conversations/{id}", static c => C(c).UpdateAsync(c, Id(c)));
        app.MapDelete("/v1/conversations/{id}", static c => C(c).DeleteAsync(c, Id(c)));
        app.MapPost("/v1/conversations/{id}/items", static c => C(c).AddItemsAsync(c, Id(c)));
        app.MapGet("/v1/conversations/{id}/items", static c => C(c).ListItemsAsync(c, Id(c)));
        app.MapGet("/v1/conversations/{id}/items/{item}", static c => C(c).GetItemAsync(c, Id(c), Id(c, "item")));
        app.MapDelete("/v1/conversations/{id}/items/{item}", static c => C(c).DeleteItemAsync(c, Id(c), Id(c, "item")));
        return app;
    }
}
