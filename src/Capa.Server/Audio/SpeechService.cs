using System.Diagnostics.CodeAnalysis;
using Capa.Protocol;
using Capa.Protocol.Audio;
using Capa.Server.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>
/// The local speech provider as the <see cref="ModelRouter"/> sees it. The voices are built once, when the server
/// starts: that is when espeak-ng and ffmpeg are looked for and the neural voice models loaded; a missing espeak-ng is
/// logged with how to install it (the server still starts, lists no speech model, and speech requests go upstream or
/// get 404). The spare ffmpeg processes are aged on the server's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SpeechService(SpeechOptions options, TimeProvider time, ILogger<SpeechService> logger) : ISpeechProvider, IHostedService, IDisposable
{
    private readonly Lazy<Task<LocalSpeechProvider?>> _local = new(() => CreateAsync(options with { Ffmpeg = options.Ffmpeg with { TimeProvider = time } }, logger));

    public string Name => "local";

    public async ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken)
    {
        var local = await _local.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return local is null ? [] : await local.GetModelsAsync(cancellationToken).ConfigureAwait(false);
    }

    public bool TryPrepare(SpeechRequest request, string model, [NotNullWhen(true)] out ISpeechJob? job, [NotNullWhen(false)] out ApiError? error)
    {
        // Routing listed this provider's models, so the voices exist by now.
        var local = _local.Value.IsCompletedSuccessfully ? _local.Value.Result : null;
        if (local is null)
        {
            job = null;
            error = ApiError.ModelNotFound(request.Model);
            return false;
        }

        return local.TryPrepare(request, model, out job, out error);
    }

    public async Task StartAsync(CancellationToken cancellationToken) => await _local.Value.WaitAsync(cancellationToken).ConfigureAwait(false);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        if (_local.IsValueCreated && _local.Value.IsCompletedSuccessfully)
        {
            _local.Value.Result?.Dispose();
        }
    }

    private static async Task<LocalSpeechProvider?> CreateAsync(SpeechOptions options, ILogger logger)
    {
        var (provider, error, warning) = await Task.Run(() => LocalSpeechProvider.CreateAsync(options, CancellationToken.None)).ConfigureAwait(false);
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
        foreach (var model in provider.NeuralModels)
        {
            SpeechLog.VoiceModel(logger, model.Id, model.Engine, model.VoiceIds.Count);
        }

        return provider;
    }
}
