using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.VectorStores;
using Capa.Server.Embeddings;
using Capa.Server.Files;
using Capa.Server.Responses;
using Capa.Storage;
using Capa.Storage.Files;
using Capa.Storage.VectorStores;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.VectorStores;

/// <summary>
/// Vector stores: the store rows, background ingestion (extract, chunk, embed, store), and search. Ingestion works
/// from the rows alone: a file is <c>in_progress</c> until its chunks are written with the status in one transaction,
/// so after a crash or restart the worker finds the files it had not finished and ingests them again.
/// </summary>
internal sealed class VectorStoreService : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly ResponseStoreAccessor _stores;
    private readonly FileService _files;
    private readonly EmbeddingService _embeddings;
    private readonly TimeProvider _time;
    private readonly ILogger<VectorStoreService> _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);

    public VectorStoreService(ResponseStoreAccessor stores, FileService files, EmbeddingService embeddings, TimeProvider time, ILogger<VectorStoreService> logger)
    {
        _stores = stores;
        _files = files;
        _embeddings = embeddings;
        _time = time;
        _logger = logger;
    }

    public ValueTask<IVectorStoreStore> GetStoreAsync(CancellationToken cancellationToken) => _stores.GetVectorStoreStoreAsync(cancellationToken);

    public FileService Files => _files;

    public EmbeddingService Embeddings => _embeddings;

    public long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Wakes the ingestion worker (new files to ingest).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A server without state has nothing to resume; it starts polling once a vector store is made.
        while (!stoppingToken.IsCancellationRequested && !_stores.HasState)
        {
            await WaitAsync(stoppingToken).ConfigureAwait(false);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = false;
            try
            {
                var store = await GetStoreAsync(stoppingToken).ConfigureAwait(false);
                foreach (var file in await store.ListPendingFilesAsync(16, stoppingToken).ConfigureAwait(false))
                {
                    try
                    {
                        await IngestAsync(store, file, stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException and not System.Data.Common.DbException)
                    {
                        // A file the engine cannot process fails alone; the worker goes on with the next.
                        await FailAsync(store, file, "server_error", "The file could not be processed.", stoppingToken).ConfigureAwait(false);
                        VectorStoresLog.WorkerFailed(_logger, e.Message);
                    }

                    worked = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidOperationException)
            {
                VectorStoresLog.WorkerFailed(_logger, e.Message);
            }

            if (!worked)
            {
                await WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _wake.WaitAsync(PollInterval, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task IngestAsync(IVectorStoreStore store, StoredVectorStoreFile entry, CancellationToken cancellationToken)
    {
        var vectorStore = await store.GetVectorStoreAsync(entry.VectorStoreId, cancellationToken).ConfigureAwait(false);
        var file = await _files.FindAsync(entry.FileId, cancellationToken).ConfigureAwait(false);
        if (vectorStore is null || file is null)
        {
            await FailAsync(store, entry, "invalid_file", "The file was deleted before it could be ingested.", cancellationToken).ConfigureAwait(false);
            return;
        }

        var model = _embeddings.Resolve(vectorStore.EmbeddingModel);
        if (model is null)
        {
            await FailAsync(store, entry, "server_error", $"The embedding model '{vectorStore.EmbeddingModel}' of this vector store is not installed.", cancellationToken).ConfigureAwait(false);
            return;
        }

        var content = await _files.GetContentAsync(cancellationToken).ConfigureAwait(false);
        byte[] bytes;
        await using (var stream = await content.OpenReadAsync(file.Sha256, cancellationToken).ConfigureAwait(false))
        {
            if (stream is null)
            {
                await FailAsync(store, entry, "server_error", "The file's content is missing from the server's data directory.", cancellationToken).ConfigureAwait(false);
                return;
            }

            // The stored size, not the stream's: a bucket's response stream need not know its length.
            bytes = new byte[file.Bytes];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        var extracted = TextExtractor.Extract(file.Filename, bytes);
        if (extracted.Text is null)
        {
            await FailAsync(store, entry, extracted.ErrorCode!, extracted.ErrorMessage!, cancellationToken).ConfigureAwait(false);
            return;
        }

        var strategy = ChunkingStrategy.FromJson(entry.ChunkingJson);
        var tokenizer = model.Encoder.Tokenizer;
        var texts = Chunker.Chunk(extracted.Text, strategy, word => tokenizer.Encode(word, addSpecialTokens: false).Length);
        // Passages carry the model's passage prefix (e5's "passage: "); the stored text stays as the file has it.
        var prompts = model.Encoder.Prompts;
        var vectors = await _embeddings.EncodeAsync(model, [.. texts.Select(prompts.ForDocument)], null, cancellationToken).ConfigureAwait(false);
        var chunks = texts.Select((t, i) => new StoredChunk(i, t, vectors[i])).ToList();
        var usage = chunks.Sum(c => (long)System.Text.Encoding.UTF8.GetByteCount(c.Text) + (c.Embedding.Length * sizeof(float)));
        if (await store.CompleteFileAsync(entry.VectorStoreId, entry.FileId, chunks, usage, cancellationToken).ConfigureAwait(false))
        {
            VectorStoresLog.Ingested(_logger, entry.FileId, entry.VectorStoreId, chunks.Count);
        }
    }

    private async Task FailAsync(IVectorStoreStore store, StoredVectorStoreFile entry, string code, string message, CancellationToken cancellationToken)
    {
        var error = JsonSerializer.Serialize(new VectorStoreFileError { Code = code, Message = message }, VectorStoresJsonContext.Default.VectorStoreFileError);
        await store.FailFileAsync(entry.VectorStoreId, entry.FileId, error, cancellationToken).ConfigureAwait(false);
        VectorStoresLog.IngestFailed(_logger, entry.FileId, entry.VectorStoreId, code, message);
    }

    /// <summary>How long a vector store made for a thread's message attachments lives after its last use, as OpenAI's: 7 days.</summary>
    public const long ThreadStoreExpiresAfterDays = 7;

    /// <summary>The 503 of a server without an embedding model, where a vector store would be made.</summary>
    public static ApiError NoEmbeddingModel { get; } = new(503,
        "No embedding model is installed on this server: install one (capa pull Xenova/all-MiniLM-L6-v2) to use vector stores.",
        ApiError.ServerErrorType, null, "model_not_found");

    /// <summary>
    /// Adds files to a thread's vector store, <paramref name="vectorStoreId"/>, or to a new one (expiring
    /// <see cref="ThreadStoreExpiresAfterDays"/> days after its last use) when the thread has none or its store is
    /// gone. Files already in the store are left as they are. Returns the store's id, or the error when none can be made.
    /// </summary>
    public async Task<(string? VectorStoreId, ApiError? Error)> AddToThreadStoreAsync(string? vectorStoreId, IReadOnlyList<string> fileIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fileIds);
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var existing = vectorStoreId is null ? null : await store.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false);
        var now = Now;
        var id = existing?.Id ?? StoreIds.New("vs_");
        var files = new List<StoredVectorStoreFile>();
        foreach (var fileId in fileIds.Distinct(StringComparer.Ordinal))
        {
            if (existing is not null && await store.GetFileAsync(existing.Id, fileId, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue;
            }

            files.Add(new StoredVectorStoreFile
            {
                VectorStoreId = id,
                FileId = fileId,
                CreatedAt = now,
                OrderKey = NowMs + files.Count,
                Status = VectorStoreFileStatuses.InProgress,
                AttributesJson = "{}",
                ChunkingJson = ChunkingStrategy.Auto.ToJson(),
            });
        }

        if (existing is null)
        {
            if (_embeddings.ResolveDefault() is not { } model)
            {
                return (null, NoEmbeddingModel);
            }

            var created = new StoredVectorStore
            {
                Id = id,
                CreatedAt = now,
                OrderKey = NowMs,
                MetadataJson = "{}",
                ExpiresAfterDays = ThreadStoreExpiresAfterDays,
                LastActiveAt = now,
                EmbeddingModel = model.Id,
            };
            await store.CreateVectorStoreAsync(created, files, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (files.Count > 0)
            {
                await store.AddFilesAsync(id, null, files, cancellationToken).ConfigureAwait(false);
            }

            await store.UpdateVectorStoreAsync(existing with { LastActiveAt = now }, cancellationToken).ConfigureAwait(false);
        }

        Wake();
        return (id, null);
    }

    /// <summary>
    /// Makes an empty vector store for a thread (expiring <see cref="ThreadStoreExpiresAfterDays"/> days after its last
    /// use); the error when none can be made.
    /// </summary>
    public async Task<(string? VectorStoreId, ApiError? Error)> CreateThreadStoreAsync(CancellationToken cancellationToken)
    {
        if (_embeddings.ResolveDefault() is not { } model)
        {
            return (null, NoEmbeddingModel);
        }

        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        var now = Now;
        var id = StoreIds.New("vs_");
        await store.CreateVectorStoreAsync(new StoredVectorStore
        {
            Id = id,
            CreatedAt = now,
            OrderKey = NowMs,
            MetadataJson = "{}",
            ExpiresAfterDays = ThreadStoreExpiresAfterDays,
            LastActiveAt = now,
            EmbeddingModel = model.Id,
        }, [], cancellationToken).ConfigureAwait(false);
        return (id, null);
    }

    /// <summary>Whether a vector store exists.</summary>
    public async Task<bool> ExistsAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        return await store.GetVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Deletes a vector store (one made for a thread that another request gave a store first).</summary>
    public async Task DeleteAsync(string vectorStoreId, CancellationToken cancellationToken)
    {
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        await store.DeleteVectorStoreAsync(vectorStoreId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether any file of these vector stores is still being ingested.</summary>
    public async Task<bool> IsIngestingAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in vectorStoreIds.Distinct(StringComparer.Ordinal))
        {
            if ((await store.CountFilesAsync(id, null, cancellationToken).ConfigureAwait(false)).InProgress > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Searches vector stores; the files' names come from the Files API.</summary>
    public async Task<IReadOnlyList<(SearchHit Hit, StoredFile? File)>> SearchAsync(IReadOnlyList<StoredVectorStore> vectorStores, VectorStoreSearchRequest request, CancellationToken cancellationToken)
    {
        var store = await GetStoreAsync(cancellationToken).ConfigureAwait(false);
        string[] ids = [.. vectorStores.Select(v => v.Id)];
        var blocks = await store.GetVectorBlocksAsync(ids, cancellationToken).ConfigureAwait(false);
        var keywords = request.RankingOptions.Ranker == "none"
            ? new KeywordStatistics(0, 0, [])
            : await store.GetKeywordStatisticsAsync(ids, [.. request.Queries.SelectMany(KeywordTerms.Split).Distinct(StringComparer.Ordinal)], cancellationToken).ConfigureAwait(false);
        var accepted = request.Filters is null ? null : await FilterAsync(store, ids, blocks, request.Filters, cancellationToken).ConfigureAwait(false);
        var vectors = new List<float[]>();
        foreach (var modelId in vectorStores.Select(v => v.EmbeddingModel).Distinct(StringComparer.Ordinal))
        {
            if (_embeddings.Resolve(modelId) is { } model)
            {
                vectors.AddRange(await _embeddings.EncodeAsync(model, [.. request.Queries.Select(model.Encoder.Prompts.ForQuery)], null, cancellationToken).ConfigureAwait(false));
            }
        }

        var ranked = HybridSearch.Rank(blocks, accepted, keywords, vectors, request.Queries, request.RankingOptions, request.MaxNumResults);

        // Only the winners' texts are read.
        var texts = await store.GetChunksAsync([.. ranked.Select(r => r.Key)], cancellationToken).ConfigureAwait(false);
        var byKey = texts.ToDictionary(c => new ChunkKey(c.VectorStoreId, c.FileId, c.Position));
        var hits = ranked.Where(r => byKey.ContainsKey(r.Key)).Select(r => new SearchHit(byKey[r.Key], r.Score)).ToList();
        var results = new List<(SearchHit, StoredFile?)>(hits.Count);
        var names = new Dictionary<string, StoredFile?>(StringComparer.Ordinal);
        foreach (var hit in hits)
        {
            if (!names.TryGetValue(hit.Chunk.FileId, out var file))
            {
                file = await _files.FindAsync(hit.Chunk.FileId, cancellationToken).ConfigureAwait(false);
                names[hit.Chunk.FileId] = file;
            }

            results.Add((hit, file));
        }

        foreach (var vectorStore in vectorStores)
        {
            await store.UpdateVectorStoreAsync(vectorStore with { LastActiveAt = Now }, cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Which chunks a filter keeps: evaluated once per file, on the file's attributes.</summary>
    private static async Task<bool[]> FilterAsync(IVectorStoreStore store, string[] ids, IReadOnlyList<ChunkVectorBlock> blocks, VectorStoreFilter filter, CancellationToken cancellationToken)
    {
        var files = await store.GetFileAttributesAsync(ids, cancellationToken).ConfigureAwait(false);
        var matches = new Dictionary<(string, string), bool>();
        foreach (var file in files)
        {
            using var attributes = JsonDocument.Parse(file.AttributesJson);
            matches[(file.VectorStoreId, file.FileId)] = filter.Matches(attributes.RootElement);
        }

        return [.. blocks.SelectMany(b => Enumerable.Range(0, b.Count).Select(r => matches.GetValueOrDefault((b.Key(r).VectorStoreId, b.Key(r).FileId))))];
    }

    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
    }
}
