using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>The prefix tree alone: chunk-aligned matches, sharing, and least-recently-used eviction under the byte bound.</summary>
public sealed class PrefixCacheTests
{
    private const int Chunk = 4;

    // A block whose one tensor names the chunk it was copied from, 100 bytes.
    private static Func<int, int, KvBlock> Copier(string prompt, List<string> copies) => (start, count) =>
    {
        copies.Add($"{prompt}@{start}");
        return new KvBlock(count, [new byte[100]]);
    };

    private static int[] Tokens(int length, int salt = 0) => [.. Enumerable.Range(0, length).Select(i => (i * 7) + salt)];

    [Fact]
    public void Match_ReturnsTheLongestHeldChunkAlignedPrefix_WithinTheLimit()
    {
        var cache = new PrefixCache(10_000, Chunk);
        var copies = new List<string>();
        var a = Tokens(10);

        Assert.Equal(2, cache.Add(a, Copier("a", copies)));
        Assert.Equal(["a@0", "a@4"], copies);
        Assert.Equal(200, cache.BytesHeld);

        Assert.Equal(2, cache.Match([.. a, 99, 98], 11).Count);
        Assert.Single(cache.Match(a, 7));
        Assert.Empty(cache.Match(a, 3));

        // A prompt that differs inside the second chunk reuses the first only.
        var b = (int[])a.Clone();
        b[5] = -1;
        Assert.Single(cache.Match(b, 10));

        // Nor does a prompt match where its first chunk differs.
        Assert.Empty(cache.Match(Tokens(10, salt: 1), 10));
    }

    [Fact]
    public void Add_SharesTheChunksPromptsHaveInCommon()
    {
        var cache = new PrefixCache(10_000, Chunk);
        var copies = new List<string>();
        var a = Tokens(12);
        var b = a.ToArray();
        b[9] = -5;

        cache.Add(a, Copier("a", copies));
        cache.Add(b, Copier("b", copies));

        // b's first two chunks are a's: only its third is copied.
        Assert.Equal(["a@0", "a@4", "a@8", "b@8"], copies);
        Assert.Equal(4, cache.ChunkCount);
        Assert.Equal(3, cache.Match(b, 12).Count);
        Assert.Same(cache.Match(a, 12)[1], cache.Match(b, 12)[1]);
    }

    [Fact]
    public void Add_BeyondTheBound_EvictsTheLeastRecentlyUsedLeaves()
    {
        // Room for 4 blocks of 100 bytes.
        var cache = new PrefixCache(400, Chunk);
        var copies = new List<string>();
        var a = Tokens(8, salt: 1);
        var b = Tokens(8, salt: 2);
        var c = Tokens(8, salt: 3);
        cache.Add(a, Copier("a", copies));
        cache.Add(b, Copier("b", copies));

        // a is used again, so b is now the least recently used.
        Assert.Equal(2, cache.Match(a, 8).Count);
        cache.Add(c, Copier("c", copies));

        Assert.Equal(400, cache.BytesHeld);
        Assert.Equal(2, cache.Match(a, 8).Count);
        Assert.Equal(2, cache.Match(c, 8).Count);
        Assert.Empty(cache.Match(b, 8));
    }

    [Fact]
    public void Add_EvictsLeavesBeforeTheirParents()
    {
        var cache = new PrefixCache(300, Chunk);
        var copies = new List<string>();
        var a = Tokens(12, salt: 1);
        cache.Add(a, Copier("a", copies));
        cache.Add(Tokens(4, salt: 2), Copier("b", copies));

        // a's deepest chunk goes first; its first two stay reachable.
        Assert.Equal(2, cache.Match(a, 12).Count);
        Assert.Equal(300, cache.BytesHeld);
    }

    [Fact]
    public void Add_APromptLargerThanTheBound_KeepsTheChunksThatFit()
    {
        var cache = new PrefixCache(250, Chunk);
        var copies = new List<string>();
        var a = Tokens(16);

        Assert.Equal(2, cache.Add(a, Copier("a", copies)));
        Assert.Equal(2, cache.Match(a, 16).Count);
        Assert.True(cache.BytesHeld <= 250);

        // A block larger than the whole bound is never held.
        var tiny = new PrefixCache(50, Chunk);
        Assert.Equal(0, tiny.Add(a, Copier("a", copies)));
        Assert.Equal(0, tiny.BytesHeld);
    }

    [Fact]
    public void Clear_DropsEverything()
    {
        var cache = new PrefixCache(10_000, Chunk);
        cache.Add(Tokens(8), Copier("a", []));
        cache.Clear();
        Assert.Equal(0, cache.BytesHeld);
        Assert.Empty(cache.Match(Tokens(8), 8));
    }
}
