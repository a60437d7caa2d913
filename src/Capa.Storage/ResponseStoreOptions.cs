namespace Capa.Storage;

/// <summary>Settings of a store created by <see cref="ResponseStores"/>.</summary>
public sealed record ResponseStoreOptions
{
    /// <summary>The default <see cref="VectorCacheBytes"/>: 512 MiB, about 340,000 chunks of 384 dimensions.</summary>
    public const long DefaultVectorCacheBytes = 512L << 20;

    /// <summary>
    /// The most memory the vector stores' chunk vectors kept between searches may take (least recently searched
    /// stores dropped first); 0 reads them from the database on every search.
    /// </summary>
    public long VectorCacheBytes { get; init; } = DefaultVectorCacheBytes;
}
