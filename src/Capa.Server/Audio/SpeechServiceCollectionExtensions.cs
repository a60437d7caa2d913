using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Audio;

/// <summary>Registration of the speech area: <c>services.AddSpeech()</c> and <c>app.MapSpeech()</c>.</summary>
public static class SpeechServiceCollectionExtensions
{
    /// <summary>Registers the speech endpoint and the local voices (options from the config file's <c>speech</c> object unless a <see cref="SpeechOptions"/> is registered).</summary>
    public static IServiceCollection AddSpeech(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => SpeechOptions.From(sp.GetRequiredService<Configuration.ServerSettings>().Speech));
        services.AddSingleton<SpeechService>();
        services.AddHostedService(sp => sp.GetRequiredService<SpeechService>());
        services.AddSingleton<SpeechEndpoint>();
        return services;
    }

    /// <summary>Maps <c>POST /v1/audio/speech</c>.</summary>
    public static IEndpointRouteBuilder MapSpeech(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/audio/speech", static context =>
            context.RequestServices.GetRequiredService<SpeechEndpoint>().HandleAsync(context));
        return endpoints;
    }
}
