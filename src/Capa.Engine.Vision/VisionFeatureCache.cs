namespace Capa.Engine.Vision;

/// <summary>
/// A bounded least-recently-used cache of vision features by key (an image's content hash plus how it was processed),
/// so that a conversation about one image encodes it once. Bounded by entries and by bytes; thread-safe.
/// </summary>
public sealed class VisionFeatureCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, float[] Features)>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, float[] Features)> _order = new();
    private long _bytes;

    /// <summary>Creates the cache.</summary>
    /// <param name="maxEntries">Most images kept (0 disables the cache).</param>
    /// <param name="maxBytes">Most feature bytes kept.</param>
    public VisionFeatureCache(int maxEntries, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
    }

    /// <summary>Most images kept.</summary>
    public int MaxEntries { get; }

    /// <summary>Most feature bytes kept.</summary>
    public long MaxBytes { get; }

    /// <summary>Images held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits { get; private set; }

    /// <summary>Lookups that had to encode.</summary>
    public long Misses { get; private set; }

    /// <summary>Returns the features stored under <paramref name="key"/>, or computes, stores and returns them.</summary>
    /// <remarks>The features are shared: callers must not write to them.</remarks>
    public float[] GetOrAdd(string key, Func<float[]> encode)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(encode);
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                Hits++;
                return node.Value.Features;
            }

            Misses++;
        }

        // Encoded outside the lock: two requests for one new image may both encode it, and the second store wins; the
        // features are the same.
        var features = encode();
        Add(key, features);
        return features;
    }

    private void Add(string key, float[] features)
    {
        var size = (long)features.Length * sizeof(float);
        if (MaxEntries == 0 || size > MaxBytes)
        {
            return;
        }

        lock (_lock)
        {
            if (_index.Remove(key, out var existing))
            {
                _order.Remove(existing);
                _bytes -= (long)existing.Value.Features.Length * sizeof(float);
            }

            _index[key] = _order.AddFirst((key, features));
            _bytes += size;
            while (_index.Count > MaxEntries || _bytes > MaxBytes)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _index.Remove(last.Value.Key);
                _bytes -= (long)last.Value.Features.Length * sizeof(float);
            }
        }
    }
}
