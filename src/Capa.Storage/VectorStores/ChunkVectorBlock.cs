namespace Capa.Storage.VectorStores;

/// <summary>
/// The vectors of a vector store's chunks in one contiguous float32 array, with each row's chunk key: what the exact
/// cosine scan walks. Immutable, so one block can serve many searches at once while it stays cached.
/// </summary>
public sealed class ChunkVectorBlock
{
    private readonly ChunkKey[] _keys;
    private readonly int[] _offsets;
    private readonly float[] _values;

    /// <summary>A block of <paramref name="keys"/>.Length rows; row i is <paramref name="values"/>[offsets[i]..offsets[i + 1]].</summary>
    /// <param name="keys">Each row's chunk.</param>
    /// <param name="offsets">Where each row starts in <paramref name="values"/>, and one more entry: the end of the last row.</param>
    /// <param name="values">The rows one after the other.</param>
    /// <param name="version">The vector store's chunk version the rows were read at (see <see cref="IVectorStoreStore.GetVectorBlocksAsync"/>).</param>
    public ChunkVectorBlock(ChunkKey[] keys, int[] offsets, float[] values, long version)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(values);
        if (offsets.Length != keys.Length + 1 || offsets[0] != 0 || offsets[^1] != values.Length)
        {
            throw new ArgumentException("The offsets must have one entry per row plus one, from 0 to the values' length.", nameof(offsets));
        }

        _keys = keys;
        _offsets = offsets;
        _values = values;
        Version = version;
    }

    /// <summary>The vector store's chunk version these rows were read at.</summary>
    public long Version { get; }

    /// <summary>The number of rows (chunks).</summary>
    public int Count => _keys.Length;

    /// <summary>Memory held by the rows and their keys (key strings shared between a file's rows counted once per row as a reference).</summary>
    public long Bytes => ((long)_values.Length * sizeof(float)) + ((long)_offsets.Length * sizeof(int)) + ((long)_keys.Length * 24);

    /// <summary>Row <paramref name="index"/>'s chunk.</summary>
    public ChunkKey Key(int index) => _keys[index];

    /// <summary>Row <paramref name="index"/>'s vector.</summary>
    public ReadOnlySpan<float> Vector(int index) => _values.AsSpan(_offsets[index], _offsets[index + 1] - _offsets[index]);

    /// <summary>A block of separate vectors (copied), in their order.</summary>
    public static ChunkVectorBlock From(IReadOnlyList<ChunkVector> vectors, long version = 0)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var keys = new ChunkKey[vectors.Count];
        var offsets = new int[vectors.Count + 1];
        for (var i = 0; i < vectors.Count; i++)
        {
            keys[i] = vectors[i].Key;
            offsets[i + 1] = checked(offsets[i] + vectors[i].Embedding.Length);
        }

        var values = new float[offsets[^1]];
        for (var i = 0; i < vectors.Count; i++)
        {
            vectors[i].Embedding.CopyTo(values, offsets[i]);
        }

        return new ChunkVectorBlock(keys, offsets, values, version);
    }
}
