namespace Capa.Storage.VectorStores;

/// <summary>
/// Vector stores, their files (with ingestion status), file batches and chunks with vectors. File counts and usage are
/// computed from the file rows, so they are always consistent with the files.
/// </summary>
/// <remarks>Implementations are thread-safe singletons; every method is atomic.</remarks>
public interface IVectorStoreStore
{
    /// <summary>Creates or upgrades the schema; call once before anything else.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new vector store with its first files (status <c>in_progress</c>).</summary>
    Task CreateVectorStoreAsync(StoredVectorStore store, IReadOnlyList<StoredVectorStoreFile> files, CancellationToken cancellationToken);

    /// <summary>A vector store, or null.</summary>
    Task<StoredVectorStore?> GetVectorStoreAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of vector stores.</summary>
    Task<Page<StoredVectorStore>> ListVectorStoresAsync(PageQuery query, CancellationToken cancellationToken);

    /// <summary>Replaces a vector store's name, metadata, expiry and last activity; false when it does not exist.</summary>
    Task<bool> UpdateVectorStoreAsync(StoredVectorStore store, CancellationToken cancellationToken);

    /// <summary>Deletes a vector store with its files, batches and chunks; false when there was none.</summary>
    Task<bool> DeleteVectorStoreAsync(string id, CancellationToken cancellationToken);

    /// <summary>File counts of a vector store (or of one batch).</summary>
    Task<FileCounts> CountFilesAsync(string vectorStoreId, string? batchId, CancellationToken cancellationToken);

    /// <summary>Total usage bytes of a vector store's files.</summary>
    Task<long> UsageBytesAsync(string vectorStoreId, CancellationToken cancellationToken);

    /// <summary>
    /// Adds files to a vector store (and creates <paramref name="batch"/> when given) in one transaction. A file
    /// already in the store is attached again: its chunks are dropped and it is ingested anew.
    /// </summary>
    Task AddFilesAsync(string vectorStoreId, StoredFileBatch? batch, IReadOnlyList<StoredVectorStoreFile> files, CancellationToken cancellationToken);

    /// <summary>A file of a vector store, or null.</summary>
    Task<StoredVectorStoreFile?> GetFileAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken);

    /// <summary>A page of a vector store's files.</summary>
    Task<Page<StoredVectorStoreFile>> ListFilesAsync(string vectorStoreId, PageQuery query, CancellationToken cancellationToken);

    /// <summary>Replaces a file's attributes; null when the file is not in the store.</summary>
    Task<StoredVectorStoreFile?> UpdateFileAttributesAsync(string vectorStoreId, string fileId, string attributesJson, CancellationToken cancellationToken);

    /// <summary>Removes a file (and its chunks) from a vector store; false when it was not there.</summary>
    Task<bool> RemoveFileAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a file's chunks and marks it <c>completed</c>, only if it is still <c>in_progress</c> (not removed,
    /// cancelled or finished by another server); returns whether it did.
    /// </summary>
    Task<bool> CompleteFileAsync(string vectorStoreId, string fileId, IReadOnlyList<StoredChunk> chunks, long usageBytes, CancellationToken cancellationToken);

    /// <summary>Marks a file <c>failed</c> with its error, only if it is still <c>in_progress</c>.</summary>
    Task<bool> FailFileAsync(string vectorStoreId, string fileId, string lastErrorJson, CancellationToken cancellationToken);

    /// <summary>Files waiting for ingestion, oldest first (after a restart: those it was ingesting).</summary>
    Task<IReadOnlyList<StoredVectorStoreFile>> ListPendingFilesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>A file batch, or null.</summary>
    Task<StoredFileBatch?> GetBatchAsync(string vectorStoreId, string batchId, CancellationToken cancellationToken);

    /// <summary>Cancels a batch: its files still <c>in_progress</c> become <c>cancelled</c>; null when there is no such batch.</summary>
    Task<StoredFileBatch?> CancelBatchAsync(string vectorStoreId, string batchId, CancellationToken cancellationToken);

    /// <summary>The chunks of one file in order.</summary>
    Task<IReadOnlyList<StoredChunk>> GetFileChunksAsync(string vectorStoreId, string fileId, CancellationToken cancellationToken);

    /// <summary>Every chunk of the given vector stores, with file attributes, for an exact search.</summary>
    Task<IReadOnlyList<SearchableChunk>> GetSearchableChunksAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken);

    /// <summary>The vector of every chunk of the given vector stores, without texts (the cosine scan's input).</summary>
    Task<IReadOnlyList<ChunkVector>> GetChunkVectorsAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken);

    /// <summary>
    /// The vectors of every chunk of the given vector stores, one block per store (missing stores left out), rows in
    /// the order of <see cref="GetChunkVectorsAsync"/> with the same values. A store's block is kept in memory between
    /// searches (within the store's configured bytes, least recently searched dropped first) and served as long as the
    /// store's chunk version, a counter raised in every transaction that adds or removes its chunks, has not moved:
    /// each call reads that one value, so changes made through any server sharing the database are seen at once.
    /// </summary>
    Task<IReadOnlyList<ChunkVectorBlock>> GetVectorBlocksAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken);

    /// <summary>The attributes of the completed files of the given vector stores.</summary>
    Task<IReadOnlyList<VectorStoreFileAttributes>> GetFileAttributesAsync(IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken);

    /// <summary>
    /// BM25's inputs for <paramref name="terms"/> over the given vector stores, from the keyword index the store keeps
    /// as chunks are stored and removed (terms as <see cref="KeywordTerms.Split"/> gives them): no chunk is read or
    /// tokenized at search time.
    /// </summary>
    Task<KeywordStatistics> GetKeywordStatisticsAsync(IReadOnlyList<string> vectorStoreIds, IReadOnlyCollection<string> terms, CancellationToken cancellationToken);

    /// <summary>The chunks at <paramref name="keys"/> with their text and file attributes, in the keys' order; missing ones are left out.</summary>
    Task<IReadOnlyList<SearchableChunk>> GetChunksAsync(IReadOnlyList<ChunkKey> keys, CancellationToken cancellationToken);
}
