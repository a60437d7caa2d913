using System.Diagnostics;
using System.Runtime.CompilerServices;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Engine.Vision;
using Capa.Engine.Vision.Idefics3;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Models;
using Capa.Models.Config;
using Capa.Models.Diagnostics;
using Capa.Models.Store;
using Capa.Protocol;
using Capa.Server.Routing;
using Capa.Server.Vision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Providers.Local;

/// <summary>Settings of the <see cref="LocalVisionProvider"/>.</summary>
public sealed record LocalVisionProviderOptions
{
    /// <summary>The model store's root (<c>CAPA_MODELS</c> or <c>~/.capa/models</c> when null).</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>Capa's own files (<c>capa-tiny-vision</c>, digests). Null: <c>CAPA_CACHE</c>, else <c>~/.capa/cache</c>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Create and serve <c>capa-tiny-vision</c> when the store holds no vision model (default true).</summary>
    public bool CreateTinyModelWhenEmpty { get; init; } = true;

    /// <summary>How each model is loaded and run.</summary>
    public LocalVisionModelOptions Model { get; init; } = new();

    /// <summary>How long the list of models is cached before the store is read again. Default 5 s.</summary>
    public TimeSpan ModelListCacheDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most local tiles one image is cut into for <c>detail</c> high or auto (the global image not counted); null:
    /// as many as the model's processor config gives. A larger image is then tiled as if its longest edge were shorter.
    /// SmolVLM only: a Qwen2-VL image is sized by its processor's pixel budget instead.
    /// </summary>
    public int? MaxTiles { get; init; }

    /// <summary>
    /// The most pixels one image is resized to for a Qwen2-VL model (its image tokens are pixels / 784), below the
    /// processor config's <c>max_pixels</c>, whose default lets one image take about 16k tokens; null: the config's.
    /// <c>detail: low</c> takes the smaller of this and a 512 × 512 image. Qwen2-VL only: SmolVLM is capped by
    /// <see cref="MaxTiles"/>.
    /// </summary>
    public long? MaxPixels { get; init; }
}

/// <summary>
/// Serves the vision-language models of the local store (SmolVLM / Idefics3 and Qwen2-VL / Qwen2.5-VL folders) for chat
/// completions, with or without images; with none installed, <c>capa-tiny-vision</c> (see <see cref="CapaTinyVision"/>).
/// Images come through the server's <see cref="IChatImageLoader"/> (fetching and decoding with its limits), are
/// processed by the model's image processor — SmolVLM's <see cref="Idefics3ImageProcessor"/> (<c>detail: low</c> = the
/// global image only, else tiles too, up to <see cref="LocalVisionProviderOptions.MaxTiles"/>), or Qwen2-VL's
/// <see cref="Qwen2VLImageProcessor"/> (<c>detail: low</c> = the pixel budget lowered to
/// <see cref="Qwen2VLImageProcessor.LowDetailMaxPixels"/>, a 512 × 512 image's worth as OpenAI's low-resolution view,
/// at most 334 image tokens; high and auto = the model's own <c>max_pixels</c>, or <see cref="LocalVisionProviderOptions.MaxPixels"/>
/// below it) — and encoded once per content hash
/// (the model's feature cache).
/// The prompt, image tokens included, is measured against the context before any pixel is processed or encoded.
/// </summary>
public sealed partial class LocalVisionProvider : IChatProvider, IDisposable
{
    /// <summary>
    /// Version of how this provider turns a request's images into model inputs (detail mapping, tile cap, prompt
    /// expansion); part of the <c>system_fingerprint</c> with the processor's config files.
    /// </summary>
    public const string PreprocessingVersion = "idefics3-preprocess/v1";

    /// <summary>The same for Qwen2-VL models (detail mapping to a pixel budget, <c>&lt;|image_pad|&gt;</c> expansion).</summary>
    public const string Qwen2VLPreprocessingVersion = "qwen2vl-preprocess/v1";

    private readonly LocalVisionProviderOptions _options;
    private readonly IChatImageLoader _images;
    private readonly ModelStore _store;
    private readonly string _cacheRoot;
    private readonly ILogger _logger;
    private readonly LoadedModels<LoadedVisionModel> _loaded = new();
    private readonly ModelListCache<(ProviderModel Model, string Directory)> _models;
    private readonly TimeProvider _time;

    /// <summary>Creates the provider; <paramref name="time"/> (default the system clock) dates responses and ages the model list.</summary>
    public LocalVisionProvider(LocalVisionProviderOptions options, IChatImageLoader images, ILogger<LocalVisionProvider>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(images);
        if (options.MaxTiles is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxTiles, "MaxTiles cannot be negative.");
        }

        if (options.MaxPixels is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxPixels, "MaxPixels must be positive.");
        }

        _options = options;
        _images = images;
        _time = time ?? TimeProvider.System;
        _models = new(options.ModelListCacheDuration, _time);
        _store = ModelStore.Open(options.ModelsDirectory, _time);
        _cacheRoot = Path.GetFullPath(options.CacheDirectory ?? ModelStore.DefaultCacheRoot());
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    public string Name => "local";

    /// <summary>Whether <c>capa-tiny-vision</c> is what is being served.</summary>
    public bool ServesTinyModel => Models().Any(m => m.Model.Id == CapaTinyVision.ModelId);

    /// <summary>Creates <c>capa-tiny-vision</c> when the store holds no vision model (and creation is on); returns its banner then, else null.</summary>
    public string? PrepareStore()
    {
        if (_options.CreateTinyModelWhenEmpty && !StoredVisionModels().Any())
        {
            CapaTinyVision.Ensure(_cacheRoot);
            _models.Invalidate();
            return CapaTinyVision.Banner;
        }

        return null;
    }

    private IEnumerable<StoredModel> StoredVisionModels() =>
        _store.List().Where(m => m.Capabilities.Contains(global::Capa.Models.Store.ModelCapabilities.Vision)
            && m.Capabilities.Contains(global::Capa.Models.Store.ModelCapabilities.Chat));

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProviderModel>>([.. Models().Select(m => m.Model)]);

    private IReadOnlyList<(ProviderModel Model, string Directory)> Models() => _models.Get(ReadModels);

    private List<(ProviderModel Model, string Directory)> ReadModels()
    {
        var list = StoredVisionModels().Select(m => (Describe(m.Id, m.Directory), m.Directory)).ToList();
        if (list.Count == 0 && _options.CreateTinyModelWhenEmpty && CapaTinyVision.IsWritten(_cacheRoot))
        {
            // Served only while no real vision model is installed, so vision aliases reach a real model first.
            var tiny = CapaTinyVision.PathIn(_cacheRoot);
            list.Add((Describe(CapaTinyVision.ModelId, tiny), tiny));
        }

        return list;
    }

    private static ProviderModel Describe(string id, string directory) =>
        new(id, Routing.ModelCapabilities.Chat | Routing.ModelCapabilities.Vision | Routing.ModelCapabilities.Json)
        {
            OwnedBy = id == CapaTinyVision.ModelId ? "capa" : id.Contains('/', StringComparison.Ordinal) ? id.Split('/')[0] : "local",
            Created = new DateTimeOffset(Directory.GetCreationTimeUtc(directory)).ToUnixTimeSeconds(),
        };

    /// <summary>The loaded model for an id this provider lists (loading it on first use); null for an unknown id.</summary>
    /// <exception cref="ModelFolderException">The folder cannot be served.</exception>
    public LocalVisionModel? GetModel(string id) => Get(id)?.Model;

    private LoadedVisionModel? Get(string id)
    {
        var entry = Models().FirstOrDefault(m => string.Equals(m.Model.Id, id, StringComparison.Ordinal));
        if (entry.Directory is null)
        {
            return null;
        }

        return _loaded.GetOrLoad(entry.Directory, () => Load(id, entry.Directory));
    }

    private LoadedVisionModel Load(string id, string directory)
    {
        // The family decides the processor; its settings are read before the sessions are created, so a bad config
        // fails fast.
        var qwen = IsQwen2VL(directory);
        var processor = qwen ? null : Idefics3ImageProcessor.FromFolder(directory);
        var patches = qwen ? Qwen2VLImageProcessor.FromFolder(directory) : null;
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(directory))))[..16];
        var extra = new Dictionary<string, string>(_options.Model.ExtraFingerprintInputs ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["vision.preprocessing"] = qwen ? Qwen2VLPreprocessingVersion : PreprocessingVersion,
        };
        if (qwen)
        {
            extra["vision.max_pixels"] = _options.MaxPixels is { } pixels ? pixels.ToString(System.Globalization.CultureInfo.InvariantCulture) : "config";
        }
        else
        {
            extra["vision.max_tiles"] = _options.MaxTiles is { } cap ? cap.ToString(System.Globalization.CultureInfo.InvariantCulture) : "config";
        }

        var model = LocalVisionModel.Load(directory, _options.Model with
        {
            Name = id,
            TemplateClock = _options.Model.TemplateClock ?? _time,
            DigestCachePath = _options.Model.DigestCachePath ?? Path.Combine(_cacheRoot, "digests", key + ".json"),
            ExtraFingerprintInputs = extra,
        });
        if (model.Folder.Family == VisionFamily.Qwen2VL != qwen)
        {
            model.Dispose();
            throw new ModelFolderException($"'{directory}' changed while it was loaded.");
        }

        LogLoaded(_logger, id, model.Folder.Variant.Name(), model.Decoder.LayerCount, model.SystemFingerprint);
        return new LoadedVisionModel(model, processor, patches);
    }

    private static bool IsQwen2VL(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
        {
            return false;
        }

        using var config = JsonConfigReader.ParseFile(path);
        return JsonConfigReader.String(config.RootElement, "model_type") is "qwen2_vl" or "qwen2_5_vl";
    }

    /// <inheritdoc/>
    public async Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);

        // The same GenAI span as a text model's: image processing and encoding, then the engine's phases, hang under it.
        using var span = ChatSpan.Start(call);
        try
        {
            var (model, stream, plan) = await StartAsync(call, cancellationToken).ConfigureAwait(false);
            using (stream)
            {
                var result = await stream.CollectAsync(cancellationToken).ConfigureAwait(false);
                var response = ChatResponseMapper.Response(call, Output(model), result, plan, _time);
                ChatSpan.Complete(span, response.Id, model.SystemFingerprint, result.PromptTokens, result.CompletionTokens, result.CachedPromptTokens,
                    response.Choices.Select(c => c.FinishReason));
                return ChatCompletionResult.FromResponse(response);
            }
        }
        catch (Exception ex)
        {
            CapaActivities.SetError(span, ex);
            throw;
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);

        // An iterator cannot catch around its yields: a span left open when the stream ends is a failed or abandoned one.
        var span = ChatSpan.Start(call);
        var finished = false;
        try
        {
            var (model, stream, plan) = await StartAsync(call, cancellationToken).ConfigureAwait(false);
            using (stream)
            {
                var writer = new ChatChunkWriter(call, Output(model), stream, plan, _time);
                string? id = null;
                var reasons = span is null ? null : new string?[stream.ChoiceCount];
                foreach (var chunk in writer.Opening())
                {
                    id = chunk.Id;
                    yield return ChatStreamEvent.FromChunk(chunk);
                }

                await foreach (var update in stream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    foreach (var chunk in writer.Update(update))
                    {
                        id = chunk.Id;
                        if (reasons is not null)
                        {
                            foreach (var choice in chunk.Choices)
                            {
                                reasons[choice.Index] = choice.FinishReason ?? reasons[choice.Index];
                            }
                        }

                        yield return ChatStreamEvent.FromChunk(chunk);
                    }
                }

                finished = true;
                ChatSpan.Complete(span, id ?? string.Empty, model.SystemFingerprint, stream.PromptTokens, stream.CompletionTokens, stream.CachedPromptTokens, reasons ?? []);
                if (writer.Closing() is { } usage)
                {
                    yield return ChatStreamEvent.FromChunk(usage);
                }
            }
        }
        finally
        {
            if (!finished)
            {
                span?.SetStatus(ActivityStatusCode.Error, "The stream ended before its last token (an error or a disconnect).");
            }

            span?.Dispose();
        }
    }

    private static ChatModelOutput Output(LocalVisionModel model) => new(model.SystemFingerprint, model.Tokenizer);

    private async Task<(LocalVisionModel Model, GenerationStream Stream, ChatOutputPlan Plan)> StartAsync(ChatCall call, CancellationToken cancellationToken)
    {
        LoadedVisionModel loaded;
        try
        {
            loaded = await Task.Run(() => Get(call.TargetModel), cancellationToken).ConfigureAwait(false)
                ?? throw new ChatProviderException(ApiError.ModelNotFound(call.ResponseModel));
        }
        catch (ModelFolderException ex)
        {
            LogLoadFailed(_logger, call.TargetModel, ex);
            throw new ChatProviderException(new ApiError(500, $"The model '{call.ResponseModel}' cannot be loaded: {ex.Message}", ApiError.ServerErrorType), ex);
        }

        var model = loaded.Model;
        var request = call.Request;
        ChatRequestMapper.CheckTokenBudget(request, model.MaxContextLength);
        try
        {
            var plan = ChatOutputPlan.Custom(loaded.ResponseConstraint(request, call.ResponseModel));
            var variables = TemplateVariables(request);
            var images = await _images.LoadAsync(request, cancellationToken).ConfigureAwait(false);

            if (loaded.Patches is { } patches)
            {
                return (model, await StartQwen2VLAsync(call, model, patches, variables, images, plan, cancellationToken).ConfigureAwait(false), plan);
            }

            // The prompt's length, image tokens included, is known from the images' sizes alone: it is checked against
            // the context before any pixel is resized or any tile reaches the vision encoder.
            var processor = loaded.Processor!;
            var tiling = images.Select(i => (Image: i, Split: Splits(i), Plan: processor.Plan(i.Image.Width, i.Image.Height, Splits(i), _options.MaxTiles))).ToArray();
            var expansions = tiling.Select(t => processor.ExpandPrompt(t.Plan.Rows, t.Plan.Cols)).ToArray();
            var prompt = await Task.Run(() => model.ExpandImages(model.Tokenize(model.RenderPrompt(variables)), expansions), cancellationToken).ConfigureAwait(false);
            if (prompt.Count >= model.MaxContextLength)
            {
                throw new ContextLengthExceededException(model.MaxContextLength, prompt.Count);
            }

            var inputs = await Task.Run(
                () => tiling.Select(t => Process(processor, t.Image, t.Split, _options.MaxTiles)).ToArray(),
                cancellationToken).ConfigureAwait(false);
            var generation = ChatRequestMapper.Generation(request, model.Tokenizer.VocabSize, defaultTopK: 0, prompt, plan.Processor);
            var stream = await model.StartAsync(generation, inputs, cancellationToken).ConfigureAwait(false);
            call.SeedUsed = stream.Seed;
            return (model, stream, plan);
        }
        catch (GenerationQueueFullException ex)
        {
            var seconds = (int)Math.Max(1, Math.Ceiling(ex.RetryAfter.TotalSeconds));
            throw new ChatProviderException(ApiError.RateLimited(seconds, ex.Message), ex);
        }
        catch (GenerationRequestException ex)
        {
            throw new ChatProviderException(ApiError.InvalidRequest(ex.Message, ex.Param, ex.Code), ex);
        }
    }

    // Qwen2-VL: each image's token count follows from its size and the detail's pixel budget, so the prompt is measured
    // before any resizing; then the patch rows, the features in the <|image_pad|> positions and the multimodal positions.
    private async Task<GenerationStream> StartQwen2VLAsync(
        ChatCall call, LocalVisionModel model, Qwen2VLImageProcessor processor, Dictionary<string, object?> variables,
        IReadOnlyList<ChatImage> images, ChatOutputPlan plan, CancellationToken cancellationToken)
    {
        var budgets = images.Select(PixelBudget).ToArray();
        var counts = new int[images.Count];
        for (var i = 0; i < images.Count; i++)
        {
            try
            {
                counts[i] = processor.CountImageTokens(images[i].Image.Width, images[i].Image.Height, budgets[i]);
            }
            catch (GenerationRequestException ex)
            {
                // The image part is at fault (an aspect ratio beyond 200): OpenAI names it and calls the image invalid.
                throw new ChatProviderException(ApiError.InvalidRequest(ex.Message, images[i].Param, "invalid_image"), ex);
            }
        }

        var expansions = counts.Select(c => Qwen2VLImageProcessor.ExpandPrompt(c)).ToArray();
        var prompt = await Task.Run(() => model.ExpandImages(model.Tokenize(model.RenderPrompt(variables)), expansions), cancellationToken).ConfigureAwait(false);
        if (prompt.Count >= model.MaxContextLength)
        {
            throw new ContextLengthExceededException(model.MaxContextLength, prompt.Count);
        }

        var inputs = await Task.Run(
            () => images.Select((image, i) => VisionImageInput.FromPatches(
                processor.Process(image.Image, budgets[i]),
                image.ContentHash + "/" + (budgets[i]?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "config"))).ToArray(),
            cancellationToken).ConfigureAwait(false);
        var generation = ChatRequestMapper.Generation(call.Request, model.Tokenizer.VocabSize, defaultTopK: 0, prompt, plan.Processor);
        var stream = await model.StartAsync(generation, inputs, cancellationToken).ConfigureAwait(false);
        call.SeedUsed = stream.Seed;
        return stream;
    }

    // OpenAI's detail "low" is one low-resolution view (512 × 512); "high" and "auto" use the model's own budget, or
    // the configured cap below it.
    private long? PixelBudget(ChatImage image) =>
        string.Equals(image.Detail, "low", StringComparison.Ordinal)
            ? Math.Min(Qwen2VLImageProcessor.LowDetailMaxPixels, _options.MaxPixels ?? long.MaxValue)
            : _options.MaxPixels;

    // OpenAI's detail "low" is one low-resolution view: the global image alone. "high" and "auto" tile the image too.
    private static bool Splits(ChatImage image) => !string.Equals(image.Detail, "low", StringComparison.Ordinal);

    private static VisionImageInput Process(Idefics3ImageProcessor processor, ChatImage image, bool split, int? maxTiles)
    {
        var inputs = processor.Process(image.Image, split, maxTiles);

        // The cache key names the image; the model's cache adds the tile count and size, so the same image at another
        // detail or tile cap is encoded again rather than mistaken for this one.
        return new VisionImageInput(inputs.PixelValues, inputs.PixelAttentionMask, inputs.Tiles, inputs.TileSize, image.ContentHash + (split ? "/split" : "/global"));
    }

    /// <summary>
    /// The chat template's variables: SmolVLM's template reads every message's content as a list of parts, so text is
    /// <c>{"type": "text"}</c> and each image <c>{"type": "image"}</c>, in the order the client sent them.
    /// </summary>
    internal static Dictionary<string, object?> TemplateVariables(ChatCompletionRequest request)
    {
        if (request.Tools is { Count: > 0 } && request.ToolChoice?.Mode != ToolChoiceMode.None)
        {
            // The SmolVLM template has no tool format: refused rather than silently ignored.
            throw new ChatProviderException(ApiError.InvalidRequest(
                $"The model `{request.Model}` does not support tools with images; send tool_choice \"none\", or a request without images to a chat model.",
                "tools",
                "unsupported_parameter"));
        }

        var messages = new List<object?>(request.Messages.Count);
        for (var i = 0; i < request.Messages.Count; i++)
        {
            var message = request.Messages[i];
            var role = message.Role switch
            {
                ChatRole.System or ChatRole.Developer => "system",
                ChatRole.User => "user",
                ChatRole.Assistant => "assistant",
                _ => throw new ChatProviderException(ApiError.InvalidRequest(
                    $"Unsupported role in messages[{i}]: the model `{request.Model}` takes system, developer, user and assistant messages.", $"messages[{i}].role")),
            };
            var parts = new List<object?>();
            if (message.Content?.Parts is { } contentParts)
            {
                for (var j = 0; j < contentParts.Count; j++)
                {
                    var part = contentParts[j];
                    parts.Add(part.Type switch
                    {
                        ChatContentPartTypes.Text => TextPart(part.Text),
                        ChatContentPartTypes.Refusal => TextPart(part.Refusal),
                        ChatContentPartTypes.ImageUrl => new Dictionary<string, object?>(StringComparer.Ordinal) { ["type"] = "image" },
                        _ => throw new ChatProviderException(ApiError.InvalidRequest(
                            $"Invalid content type. {part.Type} is only supported by certain models; the model `{request.Model}` does not accept it.",
                            $"messages.[{i}].content.[{j}].type")),
                    });
                }
            }
            else
            {
                parts.Add(TextPart(message.Content is null ? string.Empty : message.GetText()));
            }

            messages.Add(new Dictionary<string, object?>(StringComparer.Ordinal) { ["role"] = role, ["content"] = parts });
        }

        return new Dictionary<string, object?>(StringComparer.Ordinal) { ["messages"] = messages };
    }

    private static Dictionary<string, object?> TextPart(string? text) =>
        new(StringComparer.Ordinal) { ["type"] = "text", ["text"] = text ?? string.Empty };

    /// <inheritdoc/>
    public void Dispose()
    {
        _loaded.Clear(m => m.Model.Dispose());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded local vision model {Id}: variant {Variant}, {Layers} decoder layers, fingerprint {Fingerprint}")]
    private static partial void LogLoaded(ILogger logger, string id, string variant, int layers, string fingerprint);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local vision model {Id} cannot be loaded")]
    private static partial void LogLoadFailed(ILogger logger, string id, Exception exception);

    /// <summary>A loaded model, its image processor and (built on first use) its JSON constraint compiler.</summary>
    private sealed class LoadedVisionModel(LocalVisionModel model, Idefics3ImageProcessor? processor, Qwen2VLImageProcessor? patches)
    {
        private readonly Lazy<ConstraintCompiler> _compiler = new(
            () => new ConstraintCompiler(ConstraintVocabularies.Get(model.Tokenizer, model.Engine.EosTokenIds)),
            LazyThreadSafetyMode.ExecutionAndPublication);

        public LocalVisionModel Model { get; } = model;

        /// <summary>SmolVLM's processor; null for Qwen2-VL.</summary>
        public Idefics3ImageProcessor? Processor { get; } = processor;

        /// <summary>Qwen2-VL's processor; null for SmolVLM.</summary>
        public Qwen2VLImageProcessor? Patches { get; } = patches;

        /// <summary>JSON mode and structured outputs decode under the same grammars as for text models.</summary>
        public Func<int, ILogitsProcessor>? ResponseConstraint(ChatCompletionRequest request, string modelName)
        {
            var format = request.ResponseFormat;
            if (format is null || format.Type == ResponseFormatTypes.Text)
            {
                return null;
            }

            return format.Type switch
            {
                ResponseFormatTypes.JsonObject => ConstraintCompiler.ProcessorFactory(_compiler.Value.JsonObject()),
                ResponseFormatTypes.JsonSchema when format.JsonSchema is { Schema: { } schema } json =>
                    ConstraintCompiler.ProcessorFactory(_compiler.Value.JsonSchema(json.Name, schema, json.Strict == true)),
                ResponseFormatTypes.JsonSchema => ConstraintCompiler.ProcessorFactory(_compiler.Value.JsonObject()),
                _ => throw new ChatProviderException(ApiError.InvalidRequest(
                    $"Invalid value: '{format.Type}'. The model `{modelName}` supports text, json_object and json_schema.", "response_format.type", "invalid_value")),
            };
        }
    }
}
