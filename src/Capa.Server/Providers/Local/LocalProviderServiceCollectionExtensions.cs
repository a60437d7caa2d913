using Capa.Server.Configuration;
using Capa.Server.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Providers.Local;

/// <summary>Registration of the local provider.</summary>
public static class LocalProviderServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="LocalChatProvider"/> (a singleton, also as an <see cref="IChatProvider"/>) with the
    /// server's resolved engine settings applied over <paramref name="options"/>: the 4-bit matmul accuracy level of
    /// <c>--q4-accuracy</c> or the config file's <c>q4_accuracy</c>, and each model's admission limits and prefix cache
    /// (<c>--kv-cache-bytes</c>, <c>--generation-queue</c>, <c>--prefix-cache-bytes</c> or the config file's <c>limits</c>).
    /// </summary>
    public static IServiceCollection AddLocalChatProvider(this IServiceCollection services, LocalProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(sp => new LocalChatProvider(
            WithSettings(options, sp.GetRequiredService<ServerSettings>()),
            sp.GetService<ILogger<LocalChatProvider>>(),
            sp.GetService<TimeProvider>()));
        services.AddSingleton<IChatProvider>(sp => sp.GetRequiredService<LocalChatProvider>());
        return services;
    }

    internal static LocalProviderOptions WithSettings(LocalProviderOptions options, ServerSettings settings) => options with
    {
        Model = options.Model with
        {
            Decoder = options.Model.Decoder with { MatMulNBitsAccuracyLevel = settings.Q4Accuracy!.Value.Level }, // resolved: never null (its declared default is 4)
            Scheduler = options.Model.Scheduler with
            {
                KvCacheBudgetBytes = settings.KvCacheBudgetBytes ?? options.Model.Scheduler.KvCacheBudgetBytes,
                MaxQueuedRequests = settings.GenerationQueueLength ?? options.Model.Scheduler.MaxQueuedRequests,
            },
            PrefixCacheBytes = settings.PrefixCacheBytes ?? options.Model.PrefixCacheBytes,
        },
    };
}
