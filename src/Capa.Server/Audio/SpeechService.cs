using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>
/// Holds the speech providers. The local one is built once, when the server starts: that is when espeak-ng and
/// ffmpeg are looked for, and a missing espeak-ng is logged with how to install it (the server still starts; speech
/// requests then get 404 for local models).
/// </summary>
internal sealed class SpeechService(SpeechOptions options, ILogger<SpeechService> logger) : IHostedService
{
    private readonly Lazy<Task<LocalSpeechProvider?>> _local = new(() => CreateAsync(options, logger));

    /// <summary>The providers able to speak, local first.</summary>
    public async ValueTask<IReadOnlyList<ISpeechProvider>> GetProvidersAsync()
    {
        var local = await _local.Value.ConfigureAwait(false);
        return local is null ? [] : [local];
    }

    public async Task StartAsync(CancellationToken cancellationToken) => await _local.Value.WaitAsync(cancellationToken).ConfigureAwait(false);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task<LocalSpeechProvider?> CreateAsync(SpeechOptions options, ILogger logger)
    {
        var (provider, error, warning) = await LocalSpeechProvider.CreateAsync(options, CancellationToken.None).ConfigureAwait(false);
        if (provider is null)
        {
            SpeechLog.Unavailable(logger, error ?? "espeak-ng is missing.");
            return null;
        }

        if (warning is not null)
        {
            SpeechLog.Degraded(logger, warning);
        }

        SpeechLog.Ready(logger, provider.EspeakVersion, provider.FfmpegVersion ?? "none (wav and pcm only)");
        return provider;
    }
}
