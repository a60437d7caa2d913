using Capa.Server.Configuration;
using Capa.Server.Routing;
using Capa.Server.Vision;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Providers.Local;

/// <summary>Registration of the local vision provider.</summary>
public static class LocalVisionProviderServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="LocalVisionProvider"/> (a singleton, also as an <see cref="IChatProvider"/>) on the
    /// server's <see cref="IChatImageLoader"/>, with the config file's <c>vision.max_tiles</c> applied when
    /// <paramref name="options"/> sets no tile cap. Register it after the text chat provider: a chat alias without an
    /// image resolves to the first provider with a chat model, so text stays on the text model.
    /// </summary>
    public static IServiceCollection AddLocalVisionProvider(this IServiceCollection services, LocalVisionProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp => new LocalVisionProvider(
            options with
            {
                MaxTiles = options.MaxTiles ?? sp.GetService<ServerSettings>()?.Vision?.MaxTiles,
                MaxPixels = options.MaxPixels ?? sp.GetService<ServerSettings>()?.Vision?.MaxPixels,
            },
            sp.GetRequiredService<IChatImageLoader>(),
            sp.GetService<ILogger<LocalVisionProvider>>(),
            sp.GetService<TimeProvider>()));
        services.AddSingleton<IChatProvider>(sp => sp.GetRequiredService<LocalVisionProvider>());
        return services;
    }
}
