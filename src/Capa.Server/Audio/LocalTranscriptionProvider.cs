using Capa.Models.Diagnostics;
using Capa.Models.Store;
using Capa.Engine.Whisper;
using Capa.Protocol;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>Options of <see cref="LocalTranscriptionProvider"/>.</summary>
public sealed record LocalTranscriptionOptions
{
    /// <summary>The model store; null for the default (<c>$CAPA_MODELS</c>, else <c>~/.capa/models</c>).</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>A Whisper folder to serve instead of looking in the store.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>Whether to write <c>capa-whisper-tiny</c> into the store when it holds no speech-recognition model.</summary>
    public bool CreateTinyWhenEmpty { get; init; } = true;

    /// <summary>Threads ONNX Runtime uses.</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>
/// Serves Whisper models from the store (or one folder). <c>whisper-1</c>, <c>gpt-4o-transcribe</c>,
/// <c>gpt-4o-mini-transcribe</c> and <c>gpt-transcribe</c> resolve to the first Whisper model installed, as does the model's own
/// id. Sessions load on first use; one transcription runs at a time (each uses every core).
/// </summary>
public sealed partial class LocalTranscriptionProvider : ITranscriptionProvider, IDisposable
{
    /// <summary>The trace span of one transcription (model, task, seconds of audio), under the request's.</summary>
    public const string TranscriptionSpan = "capa.transcription";

    /// <summary>The OpenAI model ids that resolve to the local Whisper model.</summary>
    public static readonly IReadOnlyList<string> Aliases =
        ["whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15", "gpt-transcribe"];

    private readonly LocalTranscriptionOptions _options;
    private readonly ILogger<LocalTranscriptionProvider> _logger;
    private readonly SemaphoreSlim _run = new(1, 1);
    private readonly Lock _loadLock = new();
    private (string Id, string Directory)? _model;
    private WhisperOnnxModel? _sessions;
    private WhisperTranscriber? _transcriber;

    /// <summary>Creates the provider; nothing is read until <see cref="Prepare"/> or the first request.</summary>
    public LocalTranscriptionProvider(LocalTranscriptionOptions options, ILogger<LocalTranscriptionProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => "local";

    /// <summary>
    /// Finds the model to serve, creating <c>capa-whisper-tiny</c> when the store has none; returns a banner to show
    /// when the tiny model is served, else null.
    /// </summary>
    public string? Prepare()
    {
        var (id, _) = Model();
        return id == CapaWhisperTiny.ModelId ? CapaWhisperTiny.Banner : null;
    }

    /// <summary>The id of the model served (after <see cref="Prepare"/>), or null when there is none.</summary>
    public string? ModelId => Model().Id;

    /// <inheritdoc />
    public Task<bool> ServesAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        string? id = Model().Id;
        bool serves = id is not null && (Aliases.Contains(model, StringComparer.Ordinal) || string.Equals(model, id, StringComparison.Ordinal));
        return Task.FromResult(serves);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Routing.ProviderModel>> GetModelsAsync(CancellationToken cancellationToken)
    {
        string? id = Model().Id;
        IReadOnlyList<Routing.ProviderModel> models = id is null
            ? []
            : [.. new[] { id }.Concat(Aliases).Select(m => new Routing.ProviderModel(m, Routing.ModelCapabilities.Transcription))];
        return ValueTask.FromResult(models);
    }

    /// <inheritdoc />
    public bool SupportsWordTimestamps(string model) => Transcriber().SupportsWordTimestamps;

    /// <inheritdoc />
    public async Task<TranscriptionOutcome> TranscribeAsync(TranscriptionCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        WhisperTranscriber transcriber = Transcriber();
        TranscriptionRequest request = call.Request;
        var options = new WhisperTranscriptionOptions
        {
            Task = request.Task,
            Language = request.Language,
            Prompt = request.Prompt,
            Temperature = (float)request.Temperature,
            Seed = call.Seed,
            // Subtitles and segments need timestamps; plain text and json are decoded as whisper-1 does, with them too,
            // so every format of one request carries the same text.
            Timestamps = true,
            WordTimestamps = request.WordTimestamps,
        };
        await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var span = CapaActivities.Source.StartActivity(TranscriptionSpan);
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            WhisperTranscript transcript = await Task.Run(
                () => transcriber.Transcribe(call.Samples, options, null, cancellationToken, call.SegmentDone), cancellationToken).ConfigureAwait(false);
            span?.SetTag(CapaActivities.GenAi.RequestModel, Model().Id);
            span?.SetTag("capa.transcription.task", request.Task);
            span?.SetTag("capa.audio.duration_s", transcript.Duration);
            LogTranscribed(_logger, Model().Id!, request.Task, transcript.Duration, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            IReadOnlyList<TranscriptionLogprob>? logprobs = request.IncludeLogprobs ? Logprobs(transcript) : null;
            return new TranscriptionOutcome(Model().Id!, transcript, logprobs);
        }
        catch (Exception ex)
        {
            CapaActivities.SetError(span, ex);
            throw;
        }
        finally
        {
            _run.Release();
        }
    }

    /// <summary>Whether the language code is one the served model knows.</summary>
    public bool KnowsLanguage(string code) => Transcriber().Languages.Contains(code);

    /// <inheritdoc />
    public void Dispose()
    {
        _sessions?.Dispose();
        _run.Dispose();
    }

    private IReadOnlyList<TranscriptionLogprob> Logprobs(WhisperTranscript transcript)
    {
        var tokenizer = _sessions!.Folder.Tokenizer;
        int eot = _sessions.Folder.Tokens.EndOfText;
        var list = new List<TranscriptionLogprob>();
        foreach (WhisperSegment segment in transcript.Segments)
        {
            for (int i = 0; i < segment.Tokens.Count; i++)
            {
                int id = segment.Tokens[i];
                if (id >= eot)
                {
                    continue;
                }

                byte[] bytes = tokenizer.GetTokenBytes(id).ToArray();
                list.Add(new TranscriptionLogprob
                {
                    Token = System.Text.Encoding.UTF8.GetString(bytes),
                    Logprob = segment.TokenLogprobs[i],
                    Bytes = [.. bytes.Select(b => (int)b)],
                });
            }
        }

        return list;
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
                .Where(m => m.Capabilities.Contains(ModelCapabilities.Transcription) && !string.Equals(m.Id, CapaWhisperTiny.StoreId, StringComparison.OrdinalIgnoreCase))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .FirstOrDefault();
            if (found is not null)
            {
                _model = (found.Id, store.PathFor(found.Id));
            }
            else if (_options.CreateTinyWhenEmpty)
            {
                _model = (CapaWhisperTiny.ModelId, CapaWhisperTiny.Ensure(store));
            }
            else
            {
                return (null, null);
            }

            return _model.Value;
        }
    }

    private WhisperTranscriber Transcriber()
    {
        lock (_loadLock)
        {
            if (_transcriber is not null)
            {
                return _transcriber;
            }
        }

        var (id, directory) = Model();
        if (directory is null)
        {
            throw new InvalidOperationException("No Whisper model is installed.");
        }

        lock (_loadLock)
        {
            if (_transcriber is null)
            {
                WhisperModelFolder folder = WhisperModelFolder.Load(directory);
                _sessions = WhisperOnnxModel.Load(folder, new WhisperOnnxOptions { IntraOpThreads = _options.IntraOpThreads });
                _transcriber = new WhisperTranscriber(_sessions);
                LogLoaded(_logger, id!, folder.Variant.ToString().ToLowerInvariant(), folder.Layout.ToString().ToLowerInvariant());
            }

            return _transcriber;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Loaded Whisper model {Model} ({Variant}, {Layout} decoder)")]
    private static partial void LogLoaded(ILogger logger, string model, string variant, string layout);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "{Model} {Task}: {AudioSeconds:F1} s of audio in {Seconds:F2} s")]
    private static partial void LogTranscribed(ILogger logger, string model, string task, double audioSeconds, double seconds);
}
