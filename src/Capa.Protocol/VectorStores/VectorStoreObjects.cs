using System.Text.Json;
using System.Text.Json.Serialization;

namespace Capa.Protocol.VectorStores;

/// <summary>File counts by status (<c>file_counts</c>).</summary>
public sealed record VectorStoreFileCounts
{
    public required long InProgress { get; init; }

    public required long Completed { get; init; }

    public required long Failed { get; init; }

    public required long Cancelled { get; init; }

    public required long Total { get; init; }
}

/// <summary><c>expires_after</c> of a vector store: <c>{"anchor":"last_active_at","days":N}</c>.</summary>
public sealed record VectorStoreExpiresAfter
{
    /// <summary>Always <c>last_active_at</c>.</summary>
    public string Anchor { get; init; } = "last_active_at";

    /// <summary>1–365.</summary>
    public required long Days { get; init; }
}

/// <summary>A vector store (<c>VectorStoreObject</c>).</summary>
public sealed record VectorStoreObject
{
    public required string Id { get; init; }

    /// <summary>Always <c>vector_store</c>.</summary>
    public string Object { get; init; } = "vector_store";

    public required long CreatedAt { get; init; }

    public string? Name { get; init; }

    public required long UsageBytes { get; init; }

    public required VectorStoreFileCounts FileCounts { get; init; }

    /// <summary><c>expired</c>, <c>in_progress</c> (files being ingested) or <c>completed</c>.</summary>
    public required string Status { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VectorStoreExpiresAfter? ExpiresAfter { get; init; }

    public long? ExpiresAt { get; init; }

    public long? LastActiveAt { get; init; }

    public required JsonElement Metadata { get; init; }
}

/// <summary><c>last_error</c> of a failed vector store file.</summary>
public sealed record VectorStoreFileError
{
    /// <summary><c>server_error</c>, <c>unsupported_file</c> or <c>invalid_file</c>.</summary>
    public required string Code { get; init; }

    public required string Message { get; init; }
}

/// <summary>A file in a vector store (<c>VectorStoreFileObject</c>).</summary>
public sealed record VectorStoreFileObject
{
    public required string Id { get; init; }

    /// <summary>Always <c>vector_store.file</c>.</summary>
    public string Object { get; init; } = "vector_store.file";

    public required long UsageBytes { get; init; }

    public required long CreatedAt { get; init; }

    public required string VectorStoreId { get; init; }

    public required string Status { get; init; }

    public VectorStoreFileError? LastError { get; init; }

    public required JsonElement ChunkingStrategy { get; init; }

    public required JsonElement Attributes { get; init; }
}

/// <summary>A file batch (<c>VectorStoreFileBatchObject</c>).</summary>
public sealed record VectorStoreFileBatchObject
{
    public required string Id { get; init; }

    /// <summary>Always <c>vector_store.files_batch</c>.</summary>
    public string Object { get; init; } = "vector_store.files_batch";

    public required long CreatedAt { get; init; }

    public required string VectorStoreId { get; init; }

    public required string Status { get; init; }

    public required VectorStoreFileCounts FileCounts { get; init; }
}

/// <summary>A page of vector stores.</summary>
public sealed record VectorStoreList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<VectorStoreObject> Data { get; init; }

    public string? FirstId { get; init; }

    public string? LastId { get; init; }

    public required bool HasMore { get; init; }
}

/// <summary>A page of a vector store's (or a batch's) files.</summary>
public sealed record VectorStoreFileList
{
    public string Object { get; init; } = "list";

    public required IReadOnlyList<VectorStoreFileObject> Data { get; init; }

    public string? FirstId { get; init; }

    public string? LastId { get; init; }

    public required bool HasMore { get; init; }
}

/// <summary>A text part of a search result or of a file's content.</summary>
public sealed record VectorStoreTextContent
{
    public string Type { get; init; } = "text";

    public required string Text { get; init; }
}

/// <summary>One search result (<c>VectorStoreSearchResultItem</c>).</summary>
public sealed record VectorStoreSearchResult
{
    public required string FileId { get; init; }

    public required string Filename { get; init; }

    /// <summary>In [0, 1], higher is better.</summary>
    public required double Score { get; init; }

    public required JsonElement Attributes { get; init; }

    public required IReadOnlyList<VectorStoreTextContent> Content { get; init; }
}

/// <summary>The answer of a search (<c>VectorStoreSearchResultsPage</c>).</summary>
public sealed record VectorStoreSearchResultsPage
{
    public string Object { get; init; } = "vector_store.search_results.page";

    public required IReadOnlyList<string> SearchQuery { get; init; }

    public required IReadOnlyList<VectorStoreSearchResult> Data { get; init; }

    public bool HasMore { get; init; }

    public string? NextPage { get; init; }
}

/// <summary>The parsed chunks of a file (<c>VectorStoreFileContentResponse</c>).</summary>
public sealed record VectorStoreFileContentPage
{
    public string Object { get; init; } = "vector_store.file_content.page";

    public required IReadOnlyList<VectorStoreTextContent> Data { get; init; }

    public bool HasMore { get; init; }

    public string? NextPage { get; init; }
}

/// <summary>The answer to a delete.</summary>
public sealed record VectorStoreDeleted
{
    public required string Id { get; init; }

    public required string Object { get; init; }

    public bool Deleted { get; init; } = true;
}

/// <summary>Source-generated JSON metadata for the vector store wire types (snake_case).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    MaxDepth = 64,
    WriteIndented = false)]
[JsonSerializable(typeof(VectorStoreObject))]
[JsonSerializable(typeof(VectorStoreFileObject))]
[JsonSerializable(typeof(VectorStoreFileBatchObject))]
[JsonSerializable(typeof(VectorStoreList))]
[JsonSerializable(typeof(VectorStoreFileList))]
[JsonSerializable(typeof(VectorStoreSearchResultsPage))]
[JsonSerializable(typeof(VectorStoreFileContentPage))]
[JsonSerializable(typeof(VectorStoreDeleted))]
[JsonSerializable(typeof(VectorStoreFileError))]
[JsonSerializable(typeof(ChunkingStrategy))]
[JsonSerializable(typeof(VectorStoreSearchRequest))]
[JsonSerializable(typeof(VectorStoreFilter))]
[JsonSerializable(typeof(RankingOptions))]
[JsonSerializable(typeof(Capa.Protocol.Responses.ResponseFileSearchTool))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class VectorStoresJsonContext : JsonSerializerContext;
