using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.VectorStores;

/// <summary>Registration of the vector store API: <c>services.AddVectorStores()</c> and <c>app.MapVectorStores()</c>.</summary>
internal static class VectorStoresServiceCollectionExtensions
{
    /// <summary>Registers the service (with its ingestion worker) and the endpoint; needs AddFiles and AddEmbeddings.</summary>
    public static IServiceCollection AddVectorStores(this IServiceCollection services)
    {
        services.TryAddSingleton<VectorStoreService>();
        services.AddHostedService(sp => sp.GetRequiredService<VectorStoreService>());
        services.TryAddSingleton<VectorStoresEndpoint>();
        services.TryAddSingleton<FileSearchRunner>();
        services.AddApiArea("vector_stores", static app => app.MapVectorStores());
        return services;
    }

    /// <summary>Maps <c>/v1/vector_stores</c> and everything below it.</summary>
    public static IEndpointRouteBuilder MapVectorStores(this IEndpointRouteBuilder app)
    {
        static VectorStoresEndpoint E(HttpContext c) => c.RequestServices.GetRequiredService<VectorStoresEndpoint>();
        static string R(HttpContext c, string name) => (string)c.Request.RouteValues[name]!;

        const string Store = "/v1/vector_stores/{id}";
        app.MapPost("/v1/vector_stores", static c => E(c).CreateAsync(c));
        app.MapGet("/v1/vector_stores", static c => E(c).ListAsync(c));
        app.MapGet(Store, static c => E(c).GetAsync(c, R(c, "id")));
        app.MapPost(Store, static c => E(c).ModifyAsync(c, R(c, "id")));
        app.MapDelete(Store, static c => E(c).DeleteAsync(c, R(c, "id")));
        app.MapPost(Store + "/search", static c => E(c).SearchAsync(c, R(c, "id")));
        app.MapPost(Store + "/files", static c => E(c).AddFileAsync(c, R(c, "id")));
        app.MapGet(Store + "/files", static c => E(c).ListFilesAsync(c, R(c, "id")));
        app.MapGet(Store + "/files/{file}", static c => E(c).GetFileAsync(c, R(c, "id"), R(c, "file")));
        app.MapPost(Store + "/files/{file}", static c => E(c).UpdateFileAsync(c, R(c, "id"), R(c, "file")));
        app.MapDelete(Store + "/files/{file}", static c => E(c).RemoveFileAsync(c, R(c, "id"), R(c, "file")));
        app.MapGet(Store + "/files/{file}/content", static c => E(c).FileContentAsync(c, R(c, "id"), R(c, "file")));
        app.MapPost(Store + "/file_batches", static c => E(c).CreateBatchAsync(c, R(c, "id")));
        app.MapGet(Store + "/file_batches/{batch}", static c => E(c).GetBatchAsync(c, R(c, "id"), R(c, "batch")));
        app.MapPost(Store + "/file_batches/{batch}/cancel", static c => E(c).CancelBatchAsync(c, R(c, "id"), R(c, "batch")));
        app.MapGet(Store + "/file_batches/{batch}/files", static c => E(c).ListFilesAsync(c, R(c, "id"), R(c, "batch")));
        return app;
    }
}
