using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Capa.Server.Vision;

/// <summary>Registration of image input for chat: <c>services.AddVisionInput()</c>.</summary>
public static class VisionServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IChatImageLoader"/> (a singleton any chat provider can take) with
    /// <paramref name="options"/>, else a registered <see cref="VisionInputOptions"/>, else the config file's
    /// <c>vision</c> object.
    /// </summary>
    public static IServiceCollection AddVisionInput(this IServiceCollection services, VisionInputOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (options is not null)
        {
            services.AddSingleton(options);
        }
        else
        {
            services.TryAddSingleton(sp => VisionInputOptions.From(sp.GetRequiredService<Configuration.ServerSettings>().Vision));
        }

        services.TryAddSingleton<IChatImageLoader, ChatImageLoader>();
        return services;
    }
}
