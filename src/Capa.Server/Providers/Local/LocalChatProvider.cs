using System.Diagnostics;
using System.Runtime.CompilerServices;
using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.Models.Config;
using Capa.Models.Diagnostics;
using Capa.Models.Store;
using Capa.Protocol;
using Capa.Server.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Providers.Local;

/// <summary>
/// Serves the chat models of the local store on the ONNX engine, under the ids the store gives them (<c>ORG/NAME</c>,
/// or <c>NAME</c> for a folder directly under the store). Models load on first use and stay loaded. When the store holds
/// no chat model, <c>capa-tiny</c> is created in Capa's cache and served (see <see cref="CapaTiny"/>). Serving never
/// writes into the models folder: file digests are cached in Capa's cache too.
/// </summary>
public sealed partial class LocalChatProvider : IChatProvider, IDisposable
{
    private readonly LocalProviderOptions _options;
    private readonly ModelStore _store;
    private readonly string _cacheRoot;
    private readonly ILogger _logger;
    private readonly LoadedModels<LocalChatModel> _loaded = new();
    private readonly ModelListCache<(ProviderModel Model, string Directory)> _models;
    private readonly TimeProvider _time;

    /// <summary>Creates the provider; <paramref name="time"/> (default the system clock) dates responses and ages the model list.</summary>
    public LocalChatProvider(LocalProviderOptions options, ILogger<LocalChatProvider>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _models = new(options.ModelListCacheDuration, _time);
        _store = ModelStore.Open(options.ModelsDirectory, _time);
        _cacheRoot = Path.GetFullPath(options.CacheDirectory ?? ModelStore.DefaultCacheRoot());
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc/>
    public string Name => "local";

    /// <summary>Whether <c>capa-tiny</c> is what is being served (for the start-up banner).</summary>
    public bool ServesTinyModel => Models().Any(m => m.Model.Id == CapaTiny.ModelId);

    /// <summary>
    /// Prepares for serving: logs, per folder of the store that is not served, why and what layout is expected; creates
    /// <c>capa-tiny</c> in Capa's cache when the store holds no chat model (and creation is on). Returns the banner to
    /// show at start-up when <c>capa-tiny</c> is served, else null.
    /// </summary>
    public string? PrepareStore()
    {
        foreach (var ignored in _store.Scan().Ignored)
        {
            LogIgnoredFolder(_logger, ignored.Directory, ignored.Reason);
        }

        if (_options.CreateTinyModelWhenEmpty && !CapaTiny.StoreHasChatModel(_store))
        {
            CapaTiny.Ensure(_cacheRoot);
            _models.Invalidate();
            return CapaTiny.Banner;
        }

        return null;
    }

    /// <summary>The loaded model for an id this provider lists (loading it on first use); null for an unknown id.</summary>
    /// <exception cref="ModelFolderException">The folder cannot be served.</exception>
    public LocalChatModel? GetModel(string id)
    {
        var entry = Models().FirstOrDefault(m => string.Equals(m.Model.Id, id, StringComparison.Ordinal));
        if (entry.Directory is null)
        {
            return null;
        }

        return _loaded.GetOrLoad(entry.Directory, () => Load(id, entry.Directory));
    }

    private LocalChatModel Load(string id, string directory)
    {
        var model = LocalChatModel.Load(directory, _options.Model with
        {
            Name = id,
            TemplateClock = _options.Model.TemplateClock ?? _time,
            DigestCachePath = _options.Model.DigestCachePath ?? DigestCachePath(directory),
        });
        LogLoaded(_logger, id, model.Folder.Variant.Name(), model.Decoder.LayerCount, model.Decoder.MatMulNBitsAccuracyLevel ?? "n/a", model.SystemFingerprint, model.ChatTemplateSource);
        if (model.Decoder.BatchesDecode)
        {
            LogBatched(_logger, id);
        }
        else
        {
            LogNotBatched(_logger, id, model.Decoder.BatchDecodeNotSupportedReason ?? "unknown");
        }
        return model;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<ProviderModel>>([.. Models().Select(m => m.Model)]);

    private IReadOnlyList<(ProviderModel Model, string Directory)> Models() => _models.Get(ReadModels);

    private List<(ProviderModel Model, string Directory)> ReadModels()
    {
        // Vision-language folders chat too, but through the vision provider (their decoder takes embeddings).
        var stored = _store.List()
            .Where(m => m.Capabilities.Contains(global::Capa.Models.Store.ModelCapabilities.Chat) && !m.Capabilities.Contains(global::Capa.Models.Store.ModelCapabilities.Vision))
            .ToList();
        var list = new List<(ProviderModel, string)>();
        if (stored.Count > 0)
        {
            list.AddRange(stored.Select(m => (Describe(m.Id, m.Directory), m.Directory)));
        }
        else if (_options.CreateTinyModelWhenEmpty && CapaTiny.IsWritten(_cacheRoot))
        {
            // capa-tiny is served only while no real chat model is installed, so aliases always reach a real model first.
            var tiny = CapaTiny.PathIn(_cacheRoot);
            list.Add((Describe(CapaTiny.ModelId, tiny), tiny));
        }

        return list;
    }

    /// <summary>A digest cache per model folder, in Capa's cache (the folder may be the user's: nothing is written there).</summary>
    private string DigestCachePath(string directory)
    {
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(directory))))[..16];
        return Path.Combine(_cacheRoot, "digests", key + ".json");
    }

    private static ProviderModel Describe(string id, string directory) => new(id, Routing.ModelCapabilities.Chat)
    {
        // OpenAI's owned_by is the organisation: the ORG of ORG/NAME; a bare NAME placed by hand is the user's.
        OwnedBy = id == CapaTiny.ModelId ? "capa" : id.Contains('/', StringComparison.Ordinal) ? id.Split('/')[0] : "local",
        Created = new DateTimeOffset(Directory.GetCreationTimeUtc(directory)).ToUnixTimeSeconds(),
    };

    /// <inheritdoc/>
    public async Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var span = ChatSpan.Start(call);
        try
        {
            var (model, stream, plan) = await StartAsync(call, cancellationToken).ConfigureAwait(false);
            using (stream)
            {
                var result = await stream.CollectAsync(cancellationToken).ConfigureAwait(false);
                var response = ChatResponseMapper.Response(call, model, result, plan, _time);
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
                var writer = new ChatChunkWriter(call, model, stream, plan, _time);
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

    private async Task<(LocalChatModel Model, GenerationStream Stream, ChatOutputPlan Plan)> StartAsync(ChatCall call, CancellationToken cancellationToken)
    {
        LocalChatModel model;
        try
        {
            model = await Task.Run(() => GetModel(call.TargetModel), cancellationToken).ConfigureAwait(false) ?? throw new ChatProviderException(ApiError.ModelNotFound(call.ResponseModel));
        }
        catch (ModelFolderException ex)
        {
            LogLoadFailed(_logger, call.TargetModel, ex);
            throw new ChatProviderException(new ApiError(500, $"The model '{call.ResponseModel}' cannot be loaded: {ex.Message}", ApiError.ServerErrorType), ex);
        }

        var request = call.Request;
        ChatRequestMapper.CheckTokenBudget(request, model.MaxContextLength);
        var plan = _options.ConstraintFactory is { } factory
            ? ChatOutputPlan.Custom(factory(request, model))
            : ChatOutputPlan.Create(request, model);

        try
        {
            var tokens = await model.PreparePromptAsync(ChatRequestMapper.TemplateVariables(request, plan.TemplateTools), cancellationToken).ConfigureAwait(false);
            var generation = ChatRequestMapper.Generation(request, model, tokens, plan.Processor);
            var stream = await model.StartAsync(generation, cancellationToken).ConfigureAwait(false);
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

    /// <inheritdoc/>
    public void Dispose()
    {
        _loaded.Clear(m => m.Dispose());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded local model {Id}: variant {Variant}, {Layers} layers, MatMulNBits accuracy_level {AccuracyLevel}, fingerprint {Fingerprint}, chat template from {TemplateSource}")]
    private static partial void LogLoaded(ILogger logger, string id, string variant, int layers, string accuracyLevel, string fingerprint, string templateSource);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local model {Id} decodes concurrent requests in one batched step per token, each sequence bitwise as alone")]
    private static partial void LogBatched(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local model {Id} decodes one sequence per forward (not batched): {Reason}")]
    private static partial void LogNotBatched(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not serving {Directory}: {Reason}")]
    private static partial void LogIgnoredFolder(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local model {Id} cannot be loaded")]
    private static partial void LogLoadFailed(ILogger logger, string id, Exception exception);
}
