using Capa.Protocol;
using Capa.Server.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Passthrough;

/// <summary>
/// The OpenAI API areas Capa does not serve locally yet. With an upstream configured, each request goes to it unchanged
/// (<see cref="UpstreamForwarder"/>); without one, the answer is a 501 in OpenAI's shape naming the capability and how to
/// configure an upstream, instead of a 404 that reads as a wrong URL.
/// </summary>
public static class PassthroughEndpoints
{
    /// <summary>Path segment under <c>/v1</c> to the capability's name in errors.</summary>
    public static IReadOnlyDictionary<string, string> Areas { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["images"] = "Image generation",
        ["uploads"] = "Uploads",
        ["batches"] = "Batches",
        ["moderations"] = "Moderations",
        ["fine_tuning"] = "Fine-tuning",
        ["completions"] = "Legacy completions",
        ["realtime"] = "Realtime",
        ["containers"] = "Containers",
        ["evals"] = "Evals",
        ["videos"] = "Video generation",
    };

    /// <summary>Areas that are a single path in OpenAI's API, with nothing below them.</summary>
    private static readonly HashSet<string> SinglePaths = new(StringComparer.Ordinal) { "moderations", "completions" };

    /// <summary>Registers the forwarder.</summary>
    public static IServiceCollection AddPassthrough(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<UpstreamForwarder>();
        return services;
    }

    /// <summary>Maps every area of <see cref="Areas"/>, any method, any sub-path.</summary>
    public static IEndpointRouteBuilder MapPassthrough(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        foreach (var (segment, capability) in Areas)
        {
            RequestDelegate handler = context => HandleAsync(context, capability);
            endpoints.Map("/v1/" + segment, handler);
            if (!SinglePaths.Contains(segment))
            {
                endpoints.Map("/v1/" + segment + "/{**rest}", handler);
            }
        }

        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, string capability)
    {
        var forwarder = context.RequestServices.GetRequiredService<UpstreamForwarder>();
        if (!await forwarder.TryForwardAsync(context).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, NotServed(capability)).ConfigureAwait(false);
        }
    }

    /// <summary>The 501 for a capability with neither a local engine nor an upstream.</summary>
    public static ApiError NotServed(string capability) => new(
        StatusCodes.Status501NotImplemented,
        $"{capability} is not available on this server: Capa has no local engine for it yet and no upstream is configured. "
            + "Add an OpenAI-compatible upstream to the config file (\"upstreams\": [{\"name\": \"openai\", \"base_url\": \"https://api.openai.com/v1\", "
            + "\"api_key_env\": \"OPENAI_API_KEY\", \"models\": [\"*\"]}]) and the request is forwarded to it.",
        "invalid_request_error",
        null,
        "not_implemented");
}
