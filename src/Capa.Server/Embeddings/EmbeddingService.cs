using Capa.Engine.Embeddings;
using Capa.Models.Store;
using Capa.Server.Configuration;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Embeddings;

/// <summary>Options of the local embedding models.</summary>
public sealed record EmbeddingOptions
{
    /// <summary>The model store; null for the default (<c>$CAPA_MODELS</c>, else <c>~/.capa/models</c>).</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>Whether to write <c>capa-embedding-tiny</c> into the store when it holds no embedding model.</summary>
    public bool CreateTinyWhenEmpty { get; init; } = true;

    /// <summary>ONNX Runtime threads per run.</summary>
    public int IntraOpThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);
}

/// <summary>A local embedding model, loaded.</summary>
/// <param name="Id">The id it is served under (the store id).</param>
/// <param name="Encoder">The encoder.</param>
public sealed record LocalEmbeddingModel(string Id, SentenceEncoder Encoder);

/// <summary>
/// The local sentence encoders: models in the store with the embeddings capability, by id; OpenAI's embedding ids
/// (<c>text-embedding-3-small</c>, <c>-large</c>, <c>text-embedding-ada-002</c>) resolve to the first of them, else
/// (with no upstream to send them to) to <c>capa-embedding-tiny</c>, written on first use. Runs one batch at a time:
/// each run uses every core.
/// </summary>
public sealed class EmbeddingService : IDisposable
{
    /// <summary>OpenAI's embedding model ids.</summary>
    public static readonly IReadOnlyList<string> Aliases = ["text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"];

    private readonly EmbeddingOptions _options;
    private readonly bool _hasUpstream;
    private readonly ILogger<EmbeddingService> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LocalEmbeddingModel> _loaded = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _run = new(1, 1);

    internal EmbeddingService(EmbeddingOptions options, ServerSettings settings, ILogger<EmbeddingService> logger)
    {
        _options = options;
        _hasUpstream = settings.Upstreams.Count > 0;
        _logger = logger;
    }

    /// <summary>Whether <paramref name="model"/> is one of OpenAI's embedding ids.</summary>
    public static bool IsAlias(string model) => Aliases.Contains(model, StringComparer.Ordinal);

    /// <summary>
    /// The local model serving <paramref name="model"/>, or null when none does (the request then goes upstream, or
    /// gets a 404).
    /// </summary>
    /// <exception cref="InvalidDataException">The model's folder cannot be loaded.</exception>
    public LocalEmbeddingModel? Resolve(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_lock)
        {
            var store = ModelStore.Open(_options.ModelsDirectory);
            var installed = store.List()
                .Where(m => m.Capabilities.Contains(ModelCapabilities.Embeddings) && !string.Equals(m.Id, CapaEmbeddingTiny.StoreId, StringComparison.OrdinalIgnoreCase))
                .Where(m => SentenceEncoder.IsEncoderFolder(store.PathFor(m.Id)))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .ToList();
            StoredModel? match = installed.FirstOrDefault(m => string.Equals(m.Id, model, StringComparison.OrdinalIgnoreCase)
                || string.Equals(m.Id[(m.Id.LastIndexOf('/') + 1)..], model, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                return Load(match.Id, store.PathFor(match.Id));
            }

            if (IsAlias(model) && installed.Count > 0)
            {
                return Load(installed[0].Id, store.PathFor(installed[0].Id));
            }

            var wantsTiny = string.Equals(model, CapaEmbeddingTiny.ModelId, StringComparison.Ordinal)
                || string.Equals(model, CapaEmbeddingTiny.StoreId, StringComparison.Ordinal)
                || (IsAlias(model) && !_hasUpstream);
            if (wantsTiny && (_options.CreateTinyWhenEmpty || File.Exists(Path.Combine(store.PathFor(CapaEmbeddingTiny.StoreId), "README.md"))))
            {
                if (!_loaded.ContainsKey(CapaEmbeddingTiny.ModelId))
                {
                    EmbeddingsLog.TinyModel(_logger, CapaEmbeddingTiny.Banner);
                }

                return Load(CapaEmbeddingTiny.ModelId, CapaEmbeddingTiny.Ensure(store));
            }

            return null;
        }
    }

    /// <summary>
    /// The models <c>/v1/models</c> lists for embeddings, with the folder each loads from: the installed encoders by
    /// store id, else <c>capa-embedding-tiny</c> where it is served; then OpenAI's embedding ids where they resolve to a
    /// local model (with the folder they resolve to). Nothing is written or loaded.
    /// </summary>
    public IReadOnlyList<(string Id, string Directory)> ListServed()
    {
        lock (_lock)
        {
            var store = ModelStore.Open(_options.ModelsDirectory);
            var served = store.List()
                .Where(m => m.Capabilities.Contains(ModelCapabilities.Embeddings) && !string.Equals(m.Id, CapaEmbeddingTiny.StoreId, StringComparison.OrdinalIgnoreCase))
                .Where(m => SentenceEncoder.IsEncoderFolder(store.PathFor(m.Id)))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .Select(m => (m.Id, store.PathFor(m.Id)))
                .ToList();
            var aliased = served.Count > 0;
            if (served.Count == 0)
            {
                var tiny = store.PathFor(CapaEmbeddingTiny.StoreId);
                if (_options.CreateTinyWhenEmpty || File.Exists(Path.Combine(tiny, "README.md")))
                {
                    served.Add((CapaEmbeddingTiny.ModelId, tiny));
                    aliased = !_hasUpstream;
                }
            }

            if (aliased)
            {
                var target = served[0].Item2;
                served.AddRange(Aliases.Select(alias => (alias, target)));
            }

            return served;
        }
    }

    /// <summary>The model used where no model is named (vector stores): what <c>text-embedding-3-small</c> resolves to locally.</summary>
    public LocalEmbeddingModel? ResolveDefault()
    {
        lock (_lock)
        {
            var store = ModelStore.Open(_options.ModelsDirectory);
            var installed = store.List()
                .Where(m => m.Capabilities.Contains(ModelCapabilities.Embeddings) && !string.Equals(m.Id, CapaEmbeddingTiny.StoreId, StringComparison.OrdinalIgnoreCase))
                .Where(m => SentenceEncoder.IsEncoderFolder(store.PathFor(m.Id)))
                .OrderBy(m => m.Id, StringComparer.Ordinal)
                .FirstOrDefault();
            if (installed is not null)
            {
                return Load(installed.Id, store.PathFor(installed.Id));
            }
        }

        return _options.CreateTinyWhenEmpty ? Resolve(CapaEmbeddingTiny.ModelId) : null;
    }

    /// <summary>Encodes texts (or token sequences) on a worker thread, one run at a time.</summary>
    public async Task<float[][]> EncodeAsync(LocalEmbeddingModel model, IReadOnlyList<string>? texts, IReadOnlyList<int[]>? ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() => texts is not null
                ? model.Encoder.Encode(texts, cancellationToken)
                : model.Encoder.EncodeIds(ids ?? [], cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _run.Release();
        }
    }

    private LocalEmbeddingModel Load(string id, string directory)
    {
        if (_loaded.TryGetValue(id, out var loaded))
        {
            return loaded;
        }

        var encoder = SentenceEncoder.Load(directory, new SentenceEncoderOptions { IntraOpThreads = _options.IntraOpThreads });
        var model = new LocalEmbeddingModel(id, encoder);
        _loaded[id] = model;
        EmbeddingsLog.Loaded(_logger, id, encoder.Dimensions, encoder.Pooling.ToString());
        return model;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var model in _loaded.Values)
            {
                model.Encoder.Dispose();
            }

            _loaded.Clear();
        }

        _run.Dispose();
    }
}
