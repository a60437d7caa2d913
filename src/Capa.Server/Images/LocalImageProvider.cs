using Capa.Engine.Images;
using Capa.Models.Diagnostics;
using Capa.Models.Store;
using Capa.Protocol.Images;
using Capa.Server.Routing;
using StoreCapabilities = Capa.Models.Store.ModelCapabilities;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Images;

/// <summary>
/// Serves Stable Diffusion ONNX pipelines from the store (or one folder). Every OpenAI image model id (dall-e-2, dall-e-3,
/// the gpt-image models) resolves to the first image model installed, as does the model's own id; with none installed,
/// <c>capa-sd-tiny</c> is written and served. The pipeline's sessions load once and are kept. Jobs run one at a time by
/// default (each uses every core) behind a bounded queue; a full queue is refused at once.
/// </summary>
public sealed partial class LocalImageProvider : IImageProvider, IDisposable
{
    /// <summary>The trace span of one image's diffusion (steps, size, U-Net seconds), under the request's.</summary>
    public const string DiffusionSpan = "capa.diffusion";

    private readonly ImageOptions _options;
    private readonly ILogger<LocalImageProvider> _logger;
    private readonly SemaphoreSlim _run;
    private readonly Lock _loadLock = new();
    private int _waiting;
    private (string Id, string Directory)? _model;
    private StableDiffusionPipeline? _pipeline;
    private string? _removerDirectory;
    private BackgroundRemover? _remover;

    /// <summary>Creates the provider; nothing is read until <see cref="Prepare"/> or the first request.</summary>
    public LocalImageProvider(ImageOptions options, ILogger<LocalImageProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
        _run = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentJobs));
    }

    /// <inheritdoc />
    public string Name => "local";

    /// <summary>The id of the model served, or null when there is none.</summary>
    public string? ModelId => Model().Id;

    /// <summary>Finds the model to serve (creating <c>capa-sd-tiny</c> when the store has none); returns a banner when the tiny one is served.</summary>
    public string? Prepare() => Model().Id == CapaSdTiny.ModelId ? CapaSdTiny.Banner : null;

    /// <inheritdoc />
    public Task<bool> ServesAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? id = Model().Id;
        return Task.FromResult(id is not null && (ImageModels.Aliases.Contains(model, StringComparer.Ordinal) || string.Equals(model, id, StringComparison.Ordinal)));
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProviderModel>>(Model().Id is { } id ? [new ProviderModel(id, Capa.Server.Routing.ModelCapabilities.Image)] : []);

    /// <inheritdoc />
    public bool CanEdit(string model) => Pipeline().CanEncodeImages;

    /// <inheritdoc />
    public bool CanMakeTransparent(string model) => RemoverDirectory() is not null;

    /// <inheritdoc />
    public async Task<ImageOutcome> GenerateAsync(ImageCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        StableDiffusionPipeline pipeline = Pipeline();
        BackgroundRemover? remover = string.Equals(call.Request.Background, "transparent", StringComparison.Ordinal)
            ? Remover() ?? throw new InvalidOperationException("No background-removal model is available.")
            : null;
        if (Interlocked.Increment(ref _waiting) > _options.QueueLength + _options.MaxConcurrentJobs)
        {
            Interlocked.Decrement(ref _waiting);
            throw new ImageQueueFullException(Math.Max(1, (int)Math.Ceiling(_options.QueueLength * 0.5)));
        }

        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await Task.Run(() => Generate(pipeline, remover, call, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _run.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private ImageOutcome Generate(StableDiffusionPipeline pipeline, BackgroundRemover? remover, ImageCall call, CancellationToken cancellationToken)
    {
        ImageGenerationRequest request = call.Request;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var images = new List<RgbImage>(request.N);
        int textTokens = 0;
        for (int i = 0; i < request.N; i++)
        {
            int imageIndex = i;
            var diffusion = new DiffusionRequest
            {
                Prompt = request.Prompt,
                NegativePrompt = request.NegativePrompt ?? "",
                Width = request.Width,
                Height = request.Height,
                Seed = call.Seed + (ulong)i,
                HighQuality = ImageModels.IsHighQuality(request.Quality),
                InitImage = call.InputImage,
                Mask = call.Mask,
                Previews = request.Stream ? request.PartialImages : 0,
            };
            Action<DiffusionProgress>? progress = call.Preview is { } preview
                ? p =>
                {
                    if (p.Preview is { } image)
                    {
                        preview(new ImagePreview(imageIndex, p.PreviewIndex, remover?.RemoveBackground(image, cancellationToken) ?? image));
                    }
                }
                : null;
            using var span = CapaActivities.Source.StartActivity(DiffusionSpan);
            DiffusionResult result = pipeline.Generate(diffusion, progress, cancellationToken);
            if (span is { IsAllDataRequested: true })
            {
                span.SetTag(CapaActivities.GenAi.RequestModel, Model().Id);
                span.SetTag("capa.diffusion.steps", result.Steps);
                span.SetTag("capa.diffusion.width", result.GenerationWidth);
                span.SetTag("capa.diffusion.height", result.GenerationHeight);
                span.SetTag("capa.diffusion.unet_s", result.Timings.Unet.TotalSeconds);
            }

            LogTimings(_logger, result.Steps, result.Timings.TextEncoder.TotalSeconds, result.Timings.Unet.TotalSeconds, result.Timings.Vae.TotalSeconds);
            images.Add(remover?.RemoveBackground(result.Image, cancellationToken) ?? result.Image);
            textTokens = result.TextTokens;
        }

        LogGenerated(_logger, Model().Id!, request.N, request.Width, request.Height, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        return new ImageOutcome(Model().Id!, images, textTokens);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _pipeline?.Dispose();
        _remover?.Dispose();
        _run.Dispose();
    }

    private (string? Id, string? Directory) Model()
    {
        lock (_loadLock)
        {
            if (_model is { } known)
            {
                return known;
            }

            if (_options.ModelDirectory is { } directory)
            {
                _model = (Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), directory);
                return _model.Value;
            }

            ModelStore store = ModelStore.Open(_options.ModelsDirectory);
            StoredModel? found = store.List()
                .Where(m => m.Capabilities.Contains(StoreCapabilities.Image) && !string.Equals(m.Id, CapaSdTiny.StoreId, StringComparison.OrdinalIgnoreCase))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .FirstOrDefault();
            if (found is not null)
            {
                _model = (found.Id, store.PathFor(found.Id));
            }
            else if (_options.CreateTinyWhenEmpty)
            {
                _model = (CapaSdTiny.ModelId, CapaSdTiny.Ensure(store));
            }
            else
            {
                return (null, null);
            }

            return _model.Value;
        }
    }

    private StableDiffusionPipeline Pipeline()
    {
        lock (_loadLock)
        {
            if (_pipeline is not null)
            {
                return _pipeline;
            }
        }

        var (id, directory) = Model();
        if (directory is null)
        {
            throw new InvalidOperationException("No image model is available.");
        }

        lock (_loadLock)
        {
            if (_pipeline is null)
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                _pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(directory), new DiffusionSessionOptions { IntraOpThreads = _options.IntraOpThreads });
                LogLoaded(_logger, id!, directory, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            }

            return _pipeline;
        }
    }

    /// <summary>The background-removal model's folder: the configured one (a folder or a store id), else the first in the store.</summary>
    private string? RemoverDirectory()
    {
        lock (_loadLock)
        {
            if (_removerDirectory is not null)
            {
                return _removerDirectory;
            }
        }

        string? found = null;
        ModelStore store = ModelStore.Open(_options.ModelsDirectory);
        if (_options.BackgroundRemovalModel is { Length: > 0 } configured)
        {
            if (BackgroundRemover.IsBackgroundRemovalFolder(configured))
            {
                found = configured;
            }
            else if (Capa.Models.Store.ModelId.IsValidLocal(configured, out _) && store.Find(configured) is { } stored && BackgroundRemover.IsBackgroundRemovalFolder(stored.Directory))
            {
                found = stored.Directory;
            }
        }
        else
        {
            found = store.List()
                .Where(m => BackgroundRemover.IsBackgroundRemovalFolder(m.Directory))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .FirstOrDefault()?.Directory;
        }

        lock (_loadLock)
        {
            // Found once, kept; not found is looked for again, so a model pulled later is used without a restart.
            _removerDirectory ??= found;
            return _removerDirectory;
        }
    }

    private BackgroundRemover? Remover()
    {
        string? directory = RemoverDirectory();
        if (directory is null)
        {
            return null;
        }

        lock (_loadLock)
        {
            if (_remover is null)
            {
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                _remover = BackgroundRemover.Load(directory, new DiffusionSessionOptions { IntraOpThreads = _options.IntraOpThreads });
                LogLoaded(_logger, "background removal", directory, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            }

            return _remover;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded image model {Model} from {Directory} in {Seconds:F2} s.")]
    private static partial void LogLoaded(ILogger logger, string model, string directory, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Image of {Steps} step(s): text encoder {TextEncoderSeconds:F3} s, UNet {UnetSeconds:F3} s, VAE {VaeSeconds:F3} s.")]
    private static partial void LogTimings(ILogger logger, int steps, double textEncoderSeconds, double unetSeconds, double vaeSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Generated {Count} image(s) of {Width}x{Height} with {Model} in {Seconds:F2} s.")]
    private static partial void LogGenerated(ILogger logger, string model, int count, int width, int height, double seconds);
}
