using System.Runtime.InteropServices;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Key/value caches of recently prefilled prompts, kept by token prefix, so that a prompt starting like an earlier one (a
/// multi-turn chat, a chain of responses, a shared system prompt) skips recomputing what they share. Prompts are cut into
/// chunks of <see cref="ChunkTokens"/> tokens, the decoder's own prefill chunks: a chunk's keys and values depend only on
/// the tokens up to its end, and prefilled with the same boundaries they are bitwise what a fresh prefill computes, so
/// reuse never changes a number. The chunks form a tree (a node per chunk, its children the chunks that followed it), so
/// prompts sharing a prefix share its blocks. The tree holds at most <see cref="CapacityBytes"/>; the least recently used
/// leaf goes first. Thread-safe.
/// </summary>
public sealed class PrefixCache
{
    /// <summary>The default capacity: 1 GiB per model.</summary>
    public const long DefaultCapacityBytes = 1L << 30;

    private readonly Lock _lock = new();
    private readonly Node _root = new(null, [], null);
    private readonly HashSet<Node> _nodes = [];
    private long _bytes;
    private long _clock;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="capacityBytes">Most bytes of blocks held; at least 1.</param>
    /// <param name="chunkTokens">Tokens per chunk: the decoder's prefill chunk.</param>
    public PrefixCache(long capacityBytes, int chunkTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        CapacityBytes = capacityBytes;
        ChunkTokens = chunkTokens;
    }

    /// <summary>Most bytes held.</summary>
    public long CapacityBytes { get; }

    /// <summary>Tokens per chunk.</summary>
    public int ChunkTokens { get; }

    /// <summary>Bytes of the blocks held now.</summary>
    public long BytesHeld => Interlocked.Read(ref _bytes);

    /// <summary>Chunks held now.</summary>
    public int ChunkCount
    {
        get
        {
            lock (_lock)
            {
                return _nodes.Count;
            }
        }
    }

    /// <summary>
    /// The blocks of the longest held prefix of <paramref name="tokens"/> that ends on a chunk boundary, at most
    /// <paramref name="maxTokens"/> tokens long, in order (empty when none); marks them used.
    /// </summary>
    public IReadOnlyList<KvBlock> Match(ReadOnlySpan<int> tokens, int maxTokens)
    {
        var chunks = Math.Min(tokens.Length, maxTokens) / ChunkTokens;
        var blocks = new List<KvBlock>();
        lock (_lock)
        {
            var stamp = ++_clock;
            var node = _root;
            for (var i = 0; i < chunks; i++)
            {
                if (!node.TryGetChild(tokens.Slice(i * ChunkTokens, ChunkTokens), out var child))
                {
                    break;
                }

                child.LastUsed = stamp;
                blocks.Add(child.Block!);
                node = child;
            }
        }

        return blocks;
    }

    /// <summary>
    /// Adds the whole chunks of <paramref name="tokens"/> not held yet, each copied by <paramref name="copy"/>(start,
    /// count) from a sequence whose first positions are exactly those tokens, prefilled in chunks of
    /// <see cref="ChunkTokens"/>. Least recently used leaves are dropped to make room; chunks that cannot fit beside the
    /// rest of their prompt are not added. Returns the number of chunks added.
    /// </summary>
    public int Add(ReadOnlySpan<int> tokens, Func<int, int, KvBlock> copy)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var chunks = tokens.Length / ChunkTokens;
        var added = 0;
        lock (_lock)
        {
            var stamp = ++_clock;
            var node = _root;
            for (var i = 0; i < chunks; i++)
            {
                var span = tokens.Slice(i * ChunkTokens, ChunkTokens);
                if (node.TryGetChild(span, out var child))
                {
                    child.LastUsed = stamp;
                    node = child;
                    continue;
                }

                var block = copy(i * ChunkTokens, ChunkTokens);
                if (!MakeRoom(block.Bytes, stamp))
                {
                    break;
                }

                child = new Node(node, span.ToArray(), block) { LastUsed = stamp };
                node.Children[child.Tokens] = child;
                _nodes.Add(child);
                Interlocked.Add(ref _bytes, block.Bytes);
                GenerationMetrics.PrefixCacheBytes.Add(block.Bytes);
                added++;
                node = child;
            }
        }

        return added;
    }

    /// <summary>Drops every block.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var node in _nodes)
            {
                GenerationMetrics.PrefixCacheBytes.Add(-node.Block!.Bytes);
            }

            _nodes.Clear();
            _root.Children.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }
    }

    // Evicts least recently used leaves until `bytes` more fit; never one used at `stamp` (the prompt being added).
    private bool MakeRoom(long bytes, long stamp)
    {
        if (bytes > CapacityBytes)
        {
            return false;
        }

        while (_bytes + bytes > CapacityBytes)
        {
            Node? victim = null;
            foreach (var node in _nodes)
            {
                if (node.Children.Count == 0 && node.LastUsed < stamp && (victim is null || node.LastUsed < victim.LastUsed))
                {
                    victim = node;
                }
            }

            if (victim is null)
            {
                return false;
            }

            victim.Parent!.Children.Remove(victim.Tokens);
            _nodes.Remove(victim);
            Interlocked.Add(ref _bytes, -victim.Block!.Bytes);
            GenerationMetrics.PrefixCacheBytes.Add(-victim.Block.Bytes);
            GenerationMetrics.PrefixCacheEvictions.Add(1);
        }

        return true;
    }

    private sealed class Node(Node? parent, int[] tokens, KvBlock? block)
    {
        public Node? Parent { get; } = parent;

        public int[] Tokens { get; } = tokens;

        public KvBlock? Block { get; } = block;

        public long LastUsed { get; set; }

        public Dictionary<int[], Node> Children { get; } = new(ChunkComparer.Instance);

        public bool TryGetChild(ReadOnlySpan<int> tokens, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Node? child) =>
            Children.GetAlternateLookup<ReadOnlySpan<int>>().TryGetValue(tokens, out child);
    }

    // Chunks compare by content; a span looks one up without copying it.
    private sealed class ChunkComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static readonly ChunkComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(int[] obj) => GetHashCode((ReadOnlySpan<int>)obj);

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }
}
