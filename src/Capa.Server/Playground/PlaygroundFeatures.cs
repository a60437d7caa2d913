using System.Text.Json.Serialization;
using Capa.Server.Auth;
using Capa.Server.Configuration;
using Capa.Server.Passthrough;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Capa.Server.Playground;

/// <summary>
/// What the page may offer, from this server's own route table: an area is <c>local</c> when an endpoint is mapped for
/// its path, <c>upstream</c> when only the pass-through covers it and an upstream is configured, else <c>none</c>. The
/// page asks once at load, without a key and without sending API requests that would fail, so a tab appears exactly
/// when its endpoint answers, whichever areas this build of the server has.
/// </summary>
internal static class PlaygroundFeatures
{
    /// <summary>An area of the page and the one endpoint that proves it is served.</summary>
    internal sealed record Area(string Name, string Method, string Path);

    /// <summary>The areas the page knows, each with the endpoint its tab calls first.</summary>
    public static IReadOnlyList<Area> Areas { get; } =
    [
        new("models", HttpMethods.Get, "/v1/models"),
        new("chat", HttpMethods.Post, "/v1/chat/completions"),
        new("speech", HttpMethods.Post, "/v1/audio/speech"),
        new("transcription", HttpMethods.Post, "/v1/audio/transcriptions"),
        new("translation", HttpMethods.Post, "/v1/audio/translations"),
        new("responses", HttpMethods.Post, "/v1/responses"),
        new("conversations", HttpMethods.Post, "/v1/conversations"),
        new("images", HttpMethods.Post, "/v1/images/generations"),
        new("embeddings", HttpMethods.Post, "/v1/embeddings"),
        new("files", HttpMethods.Post, "/v1/files"),
        new("vector_stores", HttpMethods.Post, "/v1/vector_stores"),
        new("assistants", HttpMethods.Post, "/v1/assistants"),
        new("threads", HttpMethods.Post, "/v1/threads"),

        // Capa's own: pulling and removing models of the store (never forwarded upstream).
        new("model_store", HttpMethods.Get, "/capa/v1/models"),
    ];

    /// <summary>Describes the server for the page.</summary>
    public static PlaygroundFeaturesResponse Describe(EndpointDataSource endpoints, ServerSettings settings, ApiKeyValidator keys)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var mapped = new HashSet<(string Method, string Path)>();
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.RoutePattern.RawText is not { } pattern)
            {
                continue;
            }

            // Endpoints for any method are catch-alls (the pass-through's 501 or forwarding), not an area's endpoint.
            if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not { Count: > 0 } methods)
            {
                continue;
            }

            var path = "/" + pattern.TrimStart('/');
            foreach (var method in methods)
            {
                mapped.Add((method.ToUpperInvariant(), path));
            }
        }

        var areas = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var area in Areas)
        {
            areas[area.Name] = mapped.Contains((area.Method, area.Path)) ? "local"
                : settings.Upstreams.Count > 0 && IsForwarded(area.Path) ? "upstream"
                : "none";
        }

        return new PlaygroundFeaturesResponse { RequiresApiKey = keys.Enabled, Areas = areas };
    }

    /// <summary>Whether the pass-through forwards <paramref name="path"/> (<c>/v1/{area}/...</c>).</summary>
    private static bool IsForwarded(string path)
    {
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path["/v1/".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return PassthroughEndpoints.Areas.ContainsKey(slash < 0 ? rest : rest[..slash]);
    }
}

/// <summary>The body of <c>GET /playground/features</c>.</summary>
internal sealed class PlaygroundFeaturesResponse
{
    /// <summary>Whether API requests need <c>Authorization: Bearer KEY</c> (the page then asks for the key first).</summary>
    public required bool RequiresApiKey { get; init; }

    /// <summary>Area name to <c>local</c>, <c>upstream</c> or <c>none</c>.</summary>
    public required IReadOnlyDictionary<string, string> Areas { get; init; }
}

/// <summary>The playground's JSON metadata.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PlaygroundFeaturesResponse))]
internal sealed partial class PlaygroundJsonContext : JsonSerializerContext;
