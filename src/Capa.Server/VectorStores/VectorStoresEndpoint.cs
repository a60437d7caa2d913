using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Files;
using Capa.Protocol.Responses;
using Capa.Protocol.VectorStores;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Errors;
using Capa.Server.Limits;
using Capa.Server.Responses;
using Capa.Storage;
using Capa.Storage.VectorStores;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.VectorStores;

/// <summary><c>/v1/vector_stores</c>: stores, their files, file batches, file content and search.</summary>
internal sealed class VectorStoresEndpoint
{
    private const string EmptyObject = "{}";
    private readonly ServerSettings _settings;
    private readonly ChatRequestLimits _limits;
    private readonly VectorStoreService _service;

    public VectorStoresEndpoint(ServerSettings settings, VectorStoreService service)
    {
        _settings = settings;
        _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };
        _service = service;
    }

    public async Task CreateAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        if (await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        string? name = null;
        if (root.TryGetProperty("name", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.String)
            {
                await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Invalid type for 'name': expected a string.", "name", "invalid_type")).ConfigureAwait(false);
                return;
            }

            name = n.GetString();
        }

        var metadata = EmptyObject;
        ApiError? error = null;
        if (root.TryGetProperty("metadata", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (!VectorStoreRequestReader.TryReadMetadata(m, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            metadata = m.GetRawText();
        }

        long? days = null;
        if (root.TryGetProperty("expires_after", out var e) && !VectorStoreRequestReader.TryReadExpiresAfter(e, out days, out error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var chunking = ChunkingStrategy.Auto;
        if (root.TryGetProperty("chunking_strategy", out var c) && c.ValueKind != JsonValueKind.Null && !VectorStoreRequestReader.TryReadChunking(c, "chunking_strategy", out chunking, out error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        List<string> fileIds = [];
        if (root.TryGetProperty("file_ids", out var ids) && ids.ValueKind != JsonValueKind.Null)
        {
            if (!VectorStoreRequestReader.TryReadFileIds(ids, VectorStoreRequestReader.MaxCreateFiles, out var read, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            fileIds = read;
        }

        if (await FindMissingFileAsync(fileIds, ct).ConfigureAwait(false) is { } missing)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(missing, "file_ids")).ConfigureAwait(false);
            return;
        }

        var model = _service.Embeddings.ResolveDefault();
        if (model is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreService.NoEmbeddingModel).ConfigureAwait(false);
            return;
        }

        var now = _service.Now;
        var vectorStore = new StoredVectorStore
        {
            Id = StoreIds.New("vs_"),
            CreatedAt = now,
            OrderKey = _service.NowMs,
            Name = name,
            MetadataJson = metadata,
            ExpiresAfterDays = days,
            LastActiveAt = now,
            EmbeddingModel = model.Id,
        };
        var store = await _service.GetStoreAsync(ct).ConfigureAwait(false);
        await store.CreateVectorStoreAsync(vectorStore, [.. fileIds.Select((f, i) => NewFile(vectorStore.Id, f, EmptyObject, chunking, null, i))], ct).ConfigureAwait(false);
        _service.Wake();
        await WriteStoreAsync(context, store, vectorStore).ConfigureAwait(false);
    }

    public async Task ListAsync(HttpContext context)
    {
        if (!TryReadPage(context, allowFilter: false, out var query, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        var page = await store.ListVectorStoresAsync(query, context.RequestAborted).ConfigureAwait(false);
        var data = new List<VectorStoreObject>();
        foreach (var item in page.Items)
        {
            data.Add(await ToWireAsync(store, item, context.RequestAborted).ConfigureAwait(false));
        }

        await WriteAsync(context, new VectorStoreList { Data = data, FirstId = data.FirstOrDefault()?.Id, LastId = data.LastOrDefault()?.Id, HasMore = page.HasMore }, VectorStoresJsonContext.Default.VectorStoreList).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string id)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is not { } vectorStore)
        {
            return;
        }

        await WriteStoreAsync(context, store, vectorStore).ConfigureAwait(false);
    }

    public async Task ModifyAsync(HttpContext context, string id)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is not { } vectorStore || await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        ApiError? error;
        if (root.TryGetProperty("name", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.String)
            {
                await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Invalid type for 'name': expected a string.", "name", "invalid_type")).ConfigureAwait(false);
                return;
            }

            vectorStore = vectorStore with { Name = n.GetString() };
        }

        if (root.TryGetProperty("metadata", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (!VectorStoreRequestReader.TryReadMetadata(m, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            vectorStore = vectorStore with { MetadataJson = m.GetRawText() };
        }

        if (root.TryGetProperty("expires_after", out var e))
        {
            if (!VectorStoreRequestReader.TryReadExpiresAfter(e, out var days, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            vectorStore = vectorStore with { ExpiresAfterDays = days };
        }

        vectorStore = vectorStore with { LastActiveAt = _service.Now };
        await store.UpdateVectorStoreAsync(vectorStore, context.RequestAborted).ConfigureAwait(false);
        await WriteStoreAsync(context, store, vectorStore).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, string id)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (!await store.DeleteVectorStoreAsync(id, context.RequestAborted).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.StoreNotFound(id)).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, new VectorStoreDeleted { Id = id, Object = "vector_store.deleted" }, VectorStoresJsonContext.Default.VectorStoreDeleted).ConfigureAwait(false);
    }

    public async Task SearchAsync(HttpContext context, string id)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is not { } vectorStore || await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        if (!VectorStoreRequestReader.TryReadSearch(root, out var request, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var results = await _service.SearchAsync([vectorStore], request, context.RequestAborted).ConfigureAwait(false);
        var data = results.Select(r => new VectorStoreSearchResult
        {
            FileId = r.Hit.Chunk.FileId,
            Filename = r.File?.Filename ?? "",
            Score = r.Hit.Score,
            Attributes = Parse(r.Hit.Chunk.AttributesJson),
            Content = [new VectorStoreTextContent { Text = r.Hit.Chunk.Text }],
        }).ToList();
        await WriteAsync(context, new VectorStoreSearchResultsPage { SearchQuery = request.Queries, Data = data }, VectorStoresJsonContext.Default.VectorStoreSearchResultsPage).ConfigureAwait(false);
    }

    public async Task AddFileAsync(HttpContext context, string id)
    {
        var ct = context.RequestAborted;
        var store = await _service.GetStoreAsync(ct).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null || await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        if (!root.TryGetProperty("file_id", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() is not { Length: > 0 } fileId)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Missing required parameter: 'file_id'.", "file_id", "missing_required_parameter")).ConfigureAwait(false);
            return;
        }

        if (!TryReadFileOptions(root, out var attributes, out var chunking, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        if (await _service.Files.FindAsync(fileId, ct).ConfigureAwait(false) is null)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(fileId, "file_id")).ConfigureAwait(false);
            return;
        }

        var file = NewFile(id, fileId, attributes, chunking, null, 0);
        await store.AddFilesAsync(id, null, [file], ct).ConfigureAwait(false);
        _service.Wake();
        await WriteAsync(context, ToWire(file), VectorStoresJsonContext.Default.VectorStoreFileObject).ConfigureAwait(false);
    }

    public async Task ListFilesAsync(HttpContext context, string id, string? batchId = null)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null)
        {
            return;
        }

        if (batchId is not null && await store.GetBatchAsync(id, batchId, context.RequestAborted).ConfigureAwait(false) is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.BatchNotFound(batchId)).ConfigureAwait(false);
            return;
        }

        if (!TryReadPage(context, allowFilter: true, out var query, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var page = await store.ListFilesAsync(id, query with { BatchId = batchId }, context.RequestAborted).ConfigureAwait(false);
        var data = page.Items.Select(ToWire).ToList();
        await WriteAsync(context, new VectorStoreFileList { Data = data, FirstId = data.FirstOrDefault()?.Id, LastId = data.LastOrDefault()?.Id, HasMore = page.HasMore }, VectorStoresJsonContext.Default.VectorStoreFileList).ConfigureAwait(false);
    }

    public async Task GetFileAsync(HttpContext context, string id, string fileId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindFileAsync(context, store, id, fileId) is not { } file)
        {
            return;
        }

        await WriteAsync(context, ToWire(file), VectorStoresJsonContext.Default.VectorStoreFileObject).ConfigureAwait(false);
    }

    public async Task UpdateFileAsync(HttpContext context, string id, string fileId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindFileAsync(context, store, id, fileId) is null || await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        if (!root.TryGetProperty("attributes", out var a) || a.ValueKind == JsonValueKind.Null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Missing required parameter: 'attributes'.", "attributes", "missing_required_parameter")).ConfigureAwait(false);
            return;
        }

        if (!VectorStoreRequestReader.TryReadAttributes(a, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var updated = await store.UpdateFileAttributesAsync(id, fileId, a.GetRawText(), context.RequestAborted).ConfigureAwait(false);
        if (updated is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.FileNotFound(id, fileId)).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, ToWire(updated), VectorStoresJsonContext.Default.VectorStoreFileObject).ConfigureAwait(false);
    }

    public async Task RemoveFileAsync(HttpContext context, string id, string fileId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null)
        {
            return;
        }

        if (!await store.RemoveFileAsync(id, fileId, context.RequestAborted).ConfigureAwait(false))
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.FileNotFound(id, fileId)).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, new VectorStoreDeleted { Id = fileId, Object = "vector_store.file.deleted" }, VectorStoresJsonContext.Default.VectorStoreDeleted).ConfigureAwait(false);
    }

    public async Task FileContentAsync(HttpContext context, string id, string fileId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindFileAsync(context, store, id, fileId) is null)
        {
            return;
        }

        var chunks = await store.GetFileChunksAsync(id, fileId, context.RequestAborted).ConfigureAwait(false);
        await WriteAsync(context, new VectorStoreFileContentPage { Data = [.. chunks.Select(c => new VectorStoreTextContent { Text = c.Text })] }, VectorStoresJsonContext.Default.VectorStoreFileContentPage).ConfigureAwait(false);
    }

    public async Task CreateBatchAsync(HttpContext context, string id)
    {
        var ct = context.RequestAborted;
        var store = await _service.GetStoreAsync(ct).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null || await ReadBodyAsync(context) is not { } root)
        {
            return;
        }

        if (!TryReadFileOptions(root, out var attributes, out var chunking, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return;
        }

        var entries = new List<(string FileId, string Attributes, ChunkingStrategy Chunking)>();
        var hasIds = root.TryGetProperty("file_ids", out var ids) && ids.ValueKind != JsonValueKind.Null;
        var hasFiles = root.TryGetProperty("files", out var files) && files.ValueKind != JsonValueKind.Null;
        if (hasIds == hasFiles)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Provide exactly one of 'file_ids' and 'files'.", hasIds ? "files" : "file_ids", "invalid_value")).ConfigureAwait(false);
            return;
        }

        if (hasIds)
        {
            if (!VectorStoreRequestReader.TryReadFileIds(ids, VectorStoreRequestReader.MaxBatchFiles, out var list, out error))
            {
                await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                return;
            }

            entries.AddRange(list.Select(f => (f, attributes, chunking)));
        }
        else
        {
            if (files.ValueKind != JsonValueKind.Array || files.GetArrayLength() is 0 or > VectorStoreRequestReader.MaxBatchFiles)
            {
                await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest($"Invalid 'files': expected an array of 1 to {VectorStoreRequestReader.MaxBatchFiles} files.", "files", "invalid_value")).ConfigureAwait(false);
                return;
            }

            foreach (var item in files.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("file_id", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() is not { Length: > 0 } fileId)
                {
                    await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("Missing required parameter: 'files[].file_id'.", "files", "missing_required_parameter")).ConfigureAwait(false);
                    return;
                }

                if (!TryReadFileOptions(item, out var itemAttributes, out var itemChunking, out error, attributes, chunking))
                {
                    await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
                    return;
                }

                entries.Add((fileId, itemAttributes, itemChunking));
            }
        }

        if (entries.Count == 0)
        {
            await ErrorWriter.WriteAsync(context, ApiError.InvalidRequest("A batch needs at least one file.", "file_ids", "empty_array")).ConfigureAwait(false);
            return;
        }

        if (await FindMissingFileAsync([.. entries.Select(e => e.FileId)], ct).ConfigureAwait(false) is { } missing)
        {
            await ErrorWriter.WriteAsync(context, FileUploadReader.NotFound(missing, "file_ids")).ConfigureAwait(false);
            return;
        }

        var batch = new StoredFileBatch { Id = StoreIds.New("vsfb_"), VectorStoreId = id, CreatedAt = _service.Now };
        await store.AddFilesAsync(id, batch, [.. entries.DistinctBy(e => e.FileId).Select((e, i) => NewFile(id, e.FileId, e.Attributes, e.Chunking, batch.Id, i))], ct).ConfigureAwait(false);
        _service.Wake();
        await WriteBatchAsync(context, store, batch).ConfigureAwait(false);
    }

    public async Task GetBatchAsync(HttpContext context, string id, string batchId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null)
        {
            return;
        }

        var batch = await store.GetBatchAsync(id, batchId, context.RequestAborted).ConfigureAwait(false);
        if (batch is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.BatchNotFound(batchId)).ConfigureAwait(false);
            return;
        }

        await WriteBatchAsync(context, store, batch).ConfigureAwait(false);
    }

    public async Task CancelBatchAsync(HttpContext context, string id, string batchId)
    {
        var store = await _service.GetStoreAsync(context.RequestAborted).ConfigureAwait(false);
        if (await FindStoreAsync(context, store, id) is null)
        {
            return;
        }

        var batch = await store.CancelBatchAsync(id, batchId, context.RequestAborted).ConfigureAwait(false);
        if (batch is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.BatchNotFound(batchId)).ConfigureAwait(false);
            return;
        }

        await WriteBatchAsync(context, store, batch).ConfigureAwait(false);
    }

    private StoredVectorStoreFile NewFile(string vectorStoreId, string fileId, string attributes, ChunkingStrategy chunking, string? batchId, int index) => new()
    {
        VectorStoreId = vectorStoreId,
        FileId = fileId,
        CreatedAt = _service.Now,
        OrderKey = _service.NowMs + index,
        Status = VectorStoreFileStatuses.InProgress,
        AttributesJson = attributes,
        ChunkingJson = chunking.ToJson(),
        BatchId = batchId,
    };

    private static bool TryReadFileOptions(JsonElement root, out string attributes, out ChunkingStrategy chunking, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ApiError? error, string? defaultAttributes = null, ChunkingStrategy? defaultChunking = null)
    {
        attributes = defaultAttributes ?? EmptyObject;
        chunking = defaultChunking ?? ChunkingStrategy.Auto;
        error = null;
        if (root.TryGetProperty("attributes", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            if (!VectorStoreRequestReader.TryReadAttributes(a, out error))
            {
                return false;
            }

            attributes = a.GetRawText();
        }

        if (root.TryGetProperty("chunking_strategy", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (!VectorStoreRequestReader.TryReadChunking(c, "chunking_strategy", out var read, out error))
            {
                return false;
            }

            chunking = read;
        }

        return true;
    }

    private async Task<string?> FindMissingFileAsync(IReadOnlyList<string> fileIds, CancellationToken ct)
    {
        foreach (var fileId in fileIds)
        {
            if (await _service.Files.FindAsync(fileId, ct).ConfigureAwait(false) is null)
            {
                return fileId;
            }
        }

        return null;
    }

    private static bool TryReadPage(HttpContext context, bool allowFilter, out PageQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out ApiError? error)
    {
        var q = context.Request.Query;
        query = new PageQuery();
        error = null;
        if (q.TryGetValue("limit", out var limitText) && limitText.ToString() is { Length: > 0 } l)
        {
            if (!int.TryParse(l, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > 100)
            {
                error = ApiError.InvalidRequest($"Invalid 'limit': must be an integer between 1 and 100, got '{VectorStoreRequestReader.Short(l)}'.", "limit", "integer_out_of_range");
                return false;
            }

            query = query with { Limit = limit };
        }

        if (q.TryGetValue("order", out var orderText) && orderText.ToString() is { Length: > 0 } order)
        {
            if (order is not ("asc" or "desc"))
            {
                error = ApiError.InvalidRequest($"Invalid value: '{VectorStoreRequestReader.Short(order)}'. Supported values are: 'asc' and 'desc'.", "order", "invalid_value");
                return false;
            }

            query = query with { Descending = order == "desc" };
        }

        if (q.TryGetValue("after", out var after) && after.ToString() is { Length: > 0 } a)
        {
            query = query with { After = a };
        }

        if (q.TryGetValue("before", out var before) && before.ToString() is { Length: > 0 } b)
        {
            query = query with { Before = b };
        }

        if (allowFilter && q.TryGetValue("filter", out var filter) && filter.ToString() is { Length: > 0 } status)
        {
            if (status is not (VectorStoreFileStatuses.InProgress or VectorStoreFileStatuses.Completed or VectorStoreFileStatuses.Failed or VectorStoreFileStatuses.Cancelled))
            {
                error = ApiError.InvalidRequest($"Invalid value: '{VectorStoreRequestReader.Short(status)}'. Supported values are: 'in_progress', 'completed', 'failed' and 'cancelled'.", "filter", "invalid_value");
                return false;
            }

            query = query with { Status = status };
        }

        return true;
    }

    private static async Task<StoredVectorStore?> FindStoreAsync(HttpContext context, IVectorStoreStore store, string id)
    {
        var vectorStore = await store.GetVectorStoreAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (vectorStore is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.StoreNotFound(id)).ConfigureAwait(false);
        }

        return vectorStore;
    }

    private static async Task<StoredVectorStoreFile?> FindFileAsync(HttpContext context, IVectorStoreStore store, string id, string fileId)
    {
        if (await FindStoreAsync(context, store, id) is null)
        {
            return null;
        }

        var file = await store.GetFileAsync(id, fileId, context.RequestAborted).ConfigureAwait(false);
        if (file is null)
        {
            await ErrorWriter.WriteAsync(context, VectorStoreRequestReader.FileNotFound(id, fileId)).ConfigureAwait(false);
        }

        return file;
    }

    private async Task<VectorStoreObject> ToWireAsync(IVectorStoreStore store, StoredVectorStore vectorStore, CancellationToken ct)
    {
        var counts = await store.CountFilesAsync(vectorStore.Id, null, ct).ConfigureAwait(false);
        var usage = await store.UsageBytesAsync(vectorStore.Id, ct).ConfigureAwait(false);
        long? expiresAt = vectorStore.ExpiresAfterDays is { } days ? vectorStore.LastActiveAt + (days * 86_400) : null;
        var status = expiresAt is { } at && at <= _service.Now ? "expired" : counts.InProgress > 0 ? "in_progress" : "completed";
        return new VectorStoreObject
        {
            Id = vectorStore.Id,
            CreatedAt = vectorStore.CreatedAt,
            Name = vectorStore.Name,
            UsageBytes = usage,
            FileCounts = Counts(counts),
            Status = status,
            ExpiresAfter = vectorStore.ExpiresAfterDays is { } d ? new VectorStoreExpiresAfter { Days = d } : null,
            ExpiresAt = expiresAt,
            LastActiveAt = vectorStore.LastActiveAt,
            Metadata = Parse(vectorStore.MetadataJson),
        };
    }

    private static VectorStoreFileCounts Counts(FileCounts counts) => new()
    {
        InProgress = counts.InProgress,
        Completed = counts.Completed,
        Failed = counts.Failed,
        Cancelled = counts.Cancelled,
        Total = counts.Total,
    };

    /// <summary>The wire form of a vector store file.</summary>
    public static VectorStoreFileObject ToWire(StoredVectorStoreFile file) => new()
    {
        Id = file.FileId,
        UsageBytes = file.UsageBytes,
        CreatedAt = file.CreatedAt,
        VectorStoreId = file.VectorStoreId,
        Status = file.Status,
        LastError = file.LastErrorJson is { } e ? JsonSerializer.Deserialize(e, VectorStoresJsonContext.Default.VectorStoreFileError) : null,
        ChunkingStrategy = Parse(file.ChunkingJson),
        Attributes = Parse(file.AttributesJson),
    };

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private async Task WriteStoreAsync(HttpContext context, IVectorStoreStore store, StoredVectorStore vectorStore) =>
        await WriteAsync(context, await ToWireAsync(store, vectorStore, context.RequestAborted).ConfigureAwait(false), VectorStoresJsonContext.Default.VectorStoreObject).ConfigureAwait(false);

    private static async Task WriteBatchAsync(HttpContext context, IVectorStoreStore store, StoredFileBatch batch)
    {
        var counts = await store.CountFilesAsync(batch.VectorStoreId, batch.Id, context.RequestAborted).ConfigureAwait(false);
        var status = batch.Cancelled ? "cancelled"
            : counts.InProgress > 0 ? "in_progress"
            : counts.Total > 0 && counts.Failed == counts.Total ? "failed"
            : "completed";
        await WriteAsync(context, new VectorStoreFileBatchObject
        {
            Id = batch.Id,
            CreatedAt = batch.CreatedAt,
            VectorStoreId = batch.VectorStoreId,
            Status = status,
            FileCounts = Counts(counts),
        }, VectorStoresJsonContext.Default.VectorStoreFileBatchObject).ConfigureAwait(false);
    }

    private static Task WriteAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        ResponsesEndpoint.WriteJsonAsync(context, CapaJsonContext.ToWireBytes(value, typeInfo));

    private async Task<JsonElement?> ReadBodyAsync(HttpContext context)
    {
        if (!ChatCompletionsEndpoint.IsJson(context.Request.ContentType))
        {
            await ErrorWriter.WriteAsync(context, ApiError.UnsupportedMediaType(context.Request.ContentType)).ConfigureAwait(false);
            return null;
        }

        using var body = await BoundedBodyReader.ReadAsync(context.Request, _settings.MaxBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, ApiError.PayloadTooLarge(_settings.MaxBodyBytes)).ConfigureAwait(false);
            return null;
        }

        if (!ResponseRequestReader.TryParseObject(body.Memory.Span, _limits, out var root, out var error))
        {
            await ErrorWriter.WriteAsync(context, error).ConfigureAwait(false);
            return null;
        }

        return root.Clone();
    }
}
