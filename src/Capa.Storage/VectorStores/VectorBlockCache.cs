namespace Capa.Storage.VectorStores;

/// <summary>
/// Vector stores' <see cref="ChunkVectorBlock"/>s kept in memory, at most <c>capacityBytes</c> in all, the least
/// recently searched store evicted first. An entry is only ever served for the chunk version it was read at: the
/// caller reads the store's current version (one indexed row) and asks for that, so a change committed by any server
/// sharing the database makes the entry stale at once.
/// </summary>
internal sealed class VectorBlockCache(long capacityBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Id, ChunkVectorBlock Block)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, ChunkVectorBlock Block)> _recency = new();
    private long _bytes;

    /// <summary>The bytes held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>The cached block of <paramref name="vectorStoreId"/> if it was read at <paramref name="version"/>; a stale one is dropped.</summary>
    public ChunkVectorBlock? Get(string vectorStoreId, long version)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(vectorStoreId, out var node))
            {
                return null;
            }

            if (node.Value.Block.Version != version)
            {
                RemoveNode(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value.Block;
        }
    }

    /// <summary>Keeps a block (replacing the store's older one), then evicts the least recent until within capacity.</summary>
    public void Put(string vectorStoreId, ChunkVectorBlock block)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(vectorStoreId, out var existing))
            {
                if (existing.Value.Block.Version > block.Version)
                {
                    return;
                }

                RemoveNode(existing);
            }

            if (block.Bytes > capacityBytes)
            {
                return;
            }

            var node = _recency.AddFirst((vectorStoreId, block));
            _entries[vectorStoreId] = node;
            _bytes += block.Bytes;
            while (_bytes > capacityBytes && _recency.Last is { } last)
            {
                RemoveNode(last);
            }
        }
    }

    /// <summary>Forgets a store (deleted).</summary>
    public void Remove(string vectorStoreId)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(vectorStoreId, out var node))
            {
                RemoveNode(node);
            }
        }
    }

    private void RemoveNode(LinkedListNode<(string Id, ChunkVectorBlock Block)> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Id);
        _bytes -= node.Value.Block.Bytes;
    }
}
