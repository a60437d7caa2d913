using System.Text.Json;
using Capa.Protocol;
using Capa.Server.Errors;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c> (ids may contain slashes).</summary>
internal static class ModelEndpoints
{
    public static async Task ListAsync(HttpContext context, ModelRouter router)
    {
        var models = await router.ListAsync(context.RequestAborted).ConfigureAwait(false);
        var list = new ModelList { Data = models.Select(ToInfo).ToArray() };
        await WriteJsonAsync(context, list, CapaJsonContext.Default.ModelList).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext context, ModelRouter router)
    {
        var raw = context.Request.RouteValues["id"] as string ?? "";

        // Clients that escape the slash of "org/name" send %2F, which the server leaves encoded in the path.
        var id = raw.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(raw) : raw;
        var route = id.Length == 0 ? null : await router.ResolveAsync(id, context.RequestAborted).ConfigureAwait(false);
        ProviderModel? model = route is null ? null
            : route.Model is { } known ? known with { Id = id }
            : new ProviderModel(id, ModelCapabilities.Chat) { OwnedBy = route.Provider.Name };
        if (model is null && id.Length > 0
            && await router.ResolveAsync<IModelProvider>(id, ModelCapabilities.None, context.RequestAborted).ConfigureAwait(false) is { Model: { } other })
        {
            // A speech or transcription model (tts-1, whisper-1, a voice model) that chat routing does not know.
            model = other with { Id = id };
        }

        if (model is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.ModelNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, ToInfo(model), CapaJsonContext.Default.ModelInfo).ConfigureAwait(false);
    }

    private static ModelInfo ToInfo(ProviderModel model) => new()
    {
        Id = model.Id,
        Created = model.Created,
        OwnedBy = model.OwnedBy,
        Capabilities = model.Capabilities == ModelCapabilities.None ? null : CapabilityNames(model.Capabilities),
    };

    /// <summary>The capability flags as snake_case names, in flag order.</summary>
    internal static IReadOnlyList<string> CapabilityNames(ModelCapabilities capabilities) =>
        [.. Enum.GetValues<ModelCapabilities>()
            .Where(c => c != ModelCapabilities.None && (capabilities & c) == c)
            .Select(c => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(c.ToString()))];

    private static Task WriteJsonAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
