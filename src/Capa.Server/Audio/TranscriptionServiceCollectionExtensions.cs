using Capa.Media.Decoding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>Registration of the transcription area: <c>services.AddTranscription(...)</c> and <c>app.MapTranscription()</c>.</summary>
public static class TranscriptionServiceCollectionExtensions
{
    /// <summary>Registers the local Whisper provider (and the endpoint's services).</summary>
    public static IServiceCollection AddTranscription(this IServiceCollection services, LocalTranscriptionOptions options, AudioDecodeOptions? decodeOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(sp => new LocalTranscriptionProvider(options, sp.GetRequiredService<ILogger<LocalTranscriptionProvider>>()));
        services.TryAddSingleton<ITranscriptionProvider>(sp => sp.GetRequiredService<LocalTranscriptionProvider>());
        services.AddSingleton<Routing.IModelProvider>(sp => sp.GetRequiredService<LocalTranscriptionProvider>());
        services.TryAddSingleton(decodeOptions ?? new AudioDecodeOptions());
        services.TryAddSingleton<TranscriptionsEndpoint>();
        return services;
    }

    /// <summary>Maps <c>POST /v1/audio/transcriptions</c> and <c>/v1/audio/translations</c>.</summary>
    public static IEndpointRouteBuilder MapTranscription(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v1/audio/transcriptions", static context => Endpoint(context).HandleAsync(context, translation: false));
        endpoints.MapPost("/v1/audio/translations", static context => Endpoint(context).HandleAsync(context, translation: true));
        return endpoints;
    }

    // Without AddTranscription no local provider serves any model: requests go upstream or get OpenAI's model_not_found.
    private static TranscriptionsEndpoint Endpoint(HttpContext context) =>
        context.RequestServices.GetService<TranscriptionsEndpoint>()
        ?? ActivatorUtilities.CreateInstance<TranscriptionsEndpoint>(context.RequestServices, new AudioDecodeOptions());
}
