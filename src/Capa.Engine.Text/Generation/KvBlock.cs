namespace Capa.Engine.Text.Generation;

/// <summary>
/// A copy of some consecutive positions of a sequence's key/value cache: one array per cache tensor (each layer's keys,
/// then its values), each laid out [kv_heads, <see cref="Positions"/>, head_dim] as the decoder's cache is. Blocks are
/// immutable once made; a <see cref="PrefixCache"/> holds them and a decoder copies them into new sequences.
/// </summary>
public sealed class KvBlock
{
    /// <summary>Wraps the tensors copied out of a sequence.</summary>
    /// <param name="positions">Positions the block covers.</param>
    /// <param name="tensors">One array per cache tensor, each [kv_heads, positions, head_dim] in the cache's element type.</param>
    public KvBlock(int positions, byte[][] tensors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(positions, 1);
        ArgumentNullException.ThrowIfNull(tensors);
        Positions = positions;
        Tensors = tensors;
        Bytes = tensors.Sum(t => (long)t.Length);
    }

    /// <summary>Positions the block covers.</summary>
    public int Positions { get; }

    /// <summary>One array per cache tensor, [kv_heads, <see cref="Positions"/>, head_dim].</summary>
    public IReadOnlyList<byte[]> Tensors { get; }

    /// <summary>Bytes held.</summary>
    public long Bytes { get; }
}
