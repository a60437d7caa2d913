using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Audio;

/// <summary>Registration of the speech area: <c>services.AddSpeech()</c> and <c>app.MapSpeech()</c>.</summary>
public static class SpeechServiceCollectionExtensions
{
    /// <summary>
    /// Registers the speech endpoint and the local voices (options from the config file's <c>speech</c> object, voices
    /// from the model store of <see cref="Hosting.CapaServerOptions.ModelsDirectory"/>, unless a
    /// <see cref="SpeechOptions"/> is registered); the router lists and resolves their models.
    /// </summary>
    public static IServiceCollection AddSpeech(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp => SpeechOptions.From(
            sp.GetRequiredService<Configuration.ServerSettings>().Speech,
            sp.GetService<Hosting.CapaServerOptions>()?.ModelsDirectory));
        services.TryAddSingleton<SpeechService>();
        services.AddSingleton<Routing.IModelProvider>(sp => sp.GetRequiredService<SpeechService>());
        services.AddHostedService(sp => sp.GetRequiredService<SpeechService>());
        services.TryAddSingleton<SpeechEndpoint>();
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
