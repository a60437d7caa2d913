namespace Capa.Storage.VectorStores;

/// <summary>Statuses of a file in a vector store, as the API names them.</summary>
public static class VectorStoreFileStatuses
{
    /// <summary><c>in_progress</c>: waiting for or in ingestion.</summary>
    public const string InProgress = "in_progress";

    /// <summary><c>completed</c>: chunks and vectors stored.</summary>
    public const string Completed = "completed";

    /// <summary><c>cancelled</c>: its batch was cancelled before it was ingested.</summary>
    public const string Cancelled = "cancelled";

    /// <summary><c>failed</c>, with a last error.</summary>
    public const string Failed = "failed";
}

/// <summary>A vector store's row.</summary>
public sealed record StoredVectorStore
{
    /// <summary><c>vs_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Orders lists (creation time in milliseconds by convention); defaults to <see cref="CreatedAt"/> in milliseconds.</summary>
    public long? OrderKey { get; init; }

    /// <summary>The name, or null.</summary>
    public string? Name { get; init; }

    /// <summary>The metadata object (JSON text).</summary>
    public required string MetadataJson { get; init; }

    /// <summary>Days after <see cref="LastActiveAt"/> when the store expires, or null for never.</summary>
    public long? ExpiresAfterDays { get; init; }

    /// <summary>Unix time in seconds of the last use (creation, search, change).</summary>
    public required long LastActiveAt { get; init; }

    /// <summary>The id of the embedding model its vectors come from (queries must use the same).</summary>
    public required string EmbeddingModel { get; init; }
}

/// <summary>A file in a vector store.</summary>
public sealed record StoredVectorStoreFile
{
    /// <summary>The vector store.</summary>
    public required string VectorStoreId { get; init; }

    /// <summary>The file (<c>file-...</c>).</summary>
    public required string FileId { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Orders lists; defaults to <see cref="CreatedAt"/> in milliseconds.</summary>
    public long? OrderKey { get; init; }

    /// <summary>One of <see cref="VectorStoreFileStatuses"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The <c>last_error</c> object (JSON text) of a failed file, else null.</summary>
    public string? LastErrorJson { get; init; }

    /// <summary>The attributes object (JSON text).</summary>
    public required string AttributesJson { get; init; }

    /// <summary>The chunking strategy object (JSON text).</summary>
    public required string ChunkingJson { get; init; }

    /// <summary>Bytes its chunks and vectors take.</summary>
    public long UsageBytes { get; init; }

    /// <summary>The batch that added it, or null.</summary>
    public string? BatchId { get; init; }
}

/// <summary>A file batch's row (its counts come from its files).</summary>
public sealed record StoredFileBatch
{
    /// <summary><c>vsfb_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The vector store.</summary>
    public required string VectorStoreId { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>Whether it was cancelled.</summary>
    public bool Cancelled { get; init; }
}

/// <summary>File counts by status.</summary>
public sealed record FileCounts(long InProgress, long Completed, long Failed, long Cancelled)
{
    /// <summary>All files.</summary>
    public long Total => InProgress + Completed + Failed + Cancelled;
}

/// <summary>A chunk of a file, with its vector.</summary>
/// <param name="Position">Its order in the file (from 0).</param>
/// <param name="Text">The chunk's text.</param>
/// <param name="Embedding">Its unit vector.</param>
public sealed record StoredChunk(int Position, string Text, float[] Embedding);

/// <summary>A chunk as search sees it: with the file it belongs to and that file's attributes.</summary>
public sealed record SearchableChunk(string VectorStoreId, string FileId, string AttributesJson, int Position, string Text, float[] Embedding);

/// <summary>A page query over a list ordered by creation.</summary>
public sealed record PageQuery
{
    /// <summary>At most this many (1–100).</summary>
    public int Limit { get; init; } = 20;

    /// <summary>Newest first (the default) or oldest first.</summary>
    public bool Descending { get; init; } = true;

    /// <summary>Start after this id.</summary>
    public string? After { get; init; }

    /// <summary>End before this id.</summary>
    public string? Before { get; init; }

    /// <summary>Only files with this status (file lists only).</summary>
    public string? Status { get; init; }

    /// <summary>Only files of this batch (file lists only).</summary>
    public string? BatchId { get; init; }
}

/// <summary>A page and whether more follow.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, bool HasMore);
