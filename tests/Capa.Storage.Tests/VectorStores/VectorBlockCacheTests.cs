using Capa.Storage.VectorStores;

namespace Capa.Storage.Tests.VectorStores;

public sealed class VectorBlockCacheTests
{
    /// <summary>A block of <paramref name="rows"/> 4-dimensional rows: 16 + 4 + 24 bytes a row, plus 4.</summary>
    private static ChunkVectorBlock Block(int rows, long version) =>
        ChunkVectorBlock.From([.. Enumerable.Range(0, rows).Select(i => new ChunkVector(new ChunkKey("vs", "file", i), [i, 0, 0, 1]))], version);

    [Fact]
    public void A_block_is_served_only_for_its_version_and_a_stale_one_is_dropped()
    {
        var cache = new VectorBlockCache(1 << 20);
        var block = Block(3, version: 5);
        cache.Put("vs_a", block);
        Assert.Same(block, cache.Get("vs_a", 5));
        Assert.Null(cache.Get("vs_b", 5));
        Assert.Null(cache.Get("vs_a", 6));
        Assert.Null(cache.Get("vs_a", 5));
        Assert.Equal(0, cache.Bytes);

        // A slower reader's older block does not replace a newer one.
        var newer = Block(2, version: 8);
        cache.Put("vs_a", newer);
        cache.Put("vs_a", Block(1, version: 7));
        Assert.Same(newer, cache.Get("vs_a", 8));
        cache.Remove("vs_a");
        Assert.Null(cache.Get("vs_a", 8));
    }

    [Fact]
    public void The_least_recently_searched_store_goes_first_when_the_bytes_run_out()
    {
        var size = Block(10, 0).Bytes;
        var cache = new VectorBlockCache((size * 2) + 1);
        cache.Put("vs_a", Block(10, 1));
        cache.Put("vs_b", Block(10, 1));
        Assert.NotNull(cache.Get("vs_a", 1));
        cache.Put("vs_c", Block(10, 1));
        Assert.NotNull(cache.Get("vs_a", 1));
        Assert.Null(cache.Get("vs_b", 1));
        Assert.NotNull(cache.Get("vs_c", 1));
        Assert.Equal(size * 2, cache.Bytes);

        // A block larger than the whole budget is not kept, and evicts nothing.
        cache.Put("vs_d", Block(30, 1));
        Assert.Null(cache.Get("vs_d", 1));
        Assert.Equal(size * 2, cache.Bytes);
    }

    [Fact]
    public void Rows_are_contiguous_copies_in_order_with_their_keys()
    {
        var block = ChunkVectorBlock.From([new ChunkVector(new ChunkKey("vs", "f", 0), [1f, 2f]), new ChunkVector(new ChunkKey("vs", "g", 3), [3f, 4f, 5f])], 9);
        Assert.Equal(2, block.Count);
        Assert.Equal(9, block.Version);
        Assert.Equal(new ChunkKey("vs", "g", 3), block.Key(1));
        Assert.Equal([3f, 4f, 5f], block.Vector(1).ToArray());
        Assert.Throws<ArgumentException>(() => new ChunkVectorBlock([new ChunkKey("vs", "f", 0)], [0, 3], [1f, 2f], 0));
    }
}
