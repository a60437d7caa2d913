using System.Collections.Concurrent;
using Capa.Constraints.Grammars;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Runtime;

/// <summary>
/// A grammar bound to a vocabulary: creates per-sequence <see cref="ConstraintState"/>s and holds the mask
/// cache they share. Thread-safe. The cache maps a context-free key (the innermost automaton frame, the
/// rest of the stack unknown) to the tokens that stay inside that frame plus the trie positions where the
/// frame completes; completing positions are resumed with each sequence's real stack. Inside strings and
/// numbers, where decoding spends most steps, a mask is then mostly one cached bit set.
/// </summary>
public sealed class TokenConstraint
{
    private readonly ConcurrentDictionary<Frame, MaskEntry> _cache = new();
    private long _cachedBytes;

    private TokenConstraint(Grammar grammar, TokenVocabulary vocabulary, long maxCacheBytes)
    {
        Grammar = grammar;
        Vocabulary = vocabulary;
        MaxCacheBytes = maxCacheBytes;
    }

    /// <summary>The grammar.</summary>
    public Grammar Grammar { get; }

    /// <summary>The vocabulary.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>
    /// Memory the mask cache may use. A dense mask is <see cref="TokenVocabulary.MaskWords"/> words (19 KB for a
    /// 152k vocabulary); most masks are short id lists. Once full, new masks are computed but not kept.
    /// </summary>
    public long MaxCacheBytes { get; }

    /// <summary>Number of masks cached so far.</summary>
    public int CachedMasks => _cache.Count;

    /// <summary>Bytes the cached masks use.</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>Binds <paramref name="grammar"/> to <paramref name="vocabulary"/>; the cache defaults to 16 MB.</summary>
    public static TokenConstraint Create(Grammar grammar, TokenVocabulary vocabulary, long maxCacheBytes = 16L << 20)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCacheBytes);
        return new TokenConstraint(grammar, vocabulary, maxCacheBytes);
    }

    /// <summary>A fresh state at the start of the grammar.</summary>
    public ConstraintState CreateState() => new(this);

    internal MaskEntry GetEntry(Frame key, MaskWalker walker)
    {
        if (_cache.TryGetValue(key, out MaskEntry? entry))
        {
            return entry;
        }

        entry = walker.ComputeEntry(key);
        if (key.Node.IsCacheable(key) && Interlocked.Read(ref _cachedBytes) + entry.SizeInBytes <= MaxCacheBytes && _cache.TryAdd(key, entry))
        {
            Interlocked.Add(ref _cachedBytes, entry.SizeInBytes);
        }

        return entry;
    }
}

/// <summary>
/// Tokens accepted within a frame, and where (trie child, byte, consumed) the frame completes. Most frames
/// admit few tokens, so those are kept as a list of ids (<see cref="Ids"/>) rather than a full bit set.
/// </summary>
internal sealed class MaskEntry
{
    public MaskEntry(ulong[] bits, (int TrieNode, byte Byte, bool Consumed)[] deferrals)
    {
        Deferrals = deferrals;
        int count = 0;
        foreach (ulong w in bits)
        {
            count += System.Numerics.BitOperations.PopCount(w);
        }

        if (count * sizeof(int) < bits.Length * sizeof(ulong))
        {
            Ids = new int[count];
            int k = 0;
            for (int w = 0; w < bits.Length; w++)
            {
                for (ulong word = bits[w]; word != 0; word &= word - 1)
                {
                    Ids[k++] = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                }
            }
        }
        else
        {
            Bits = bits;
        }
    }

    public ulong[]? Bits { get; }

    public int[]? Ids { get; }

    public (int TrieNode, byte Byte, bool Consumed)[] Deferrals { get; }

    /// <summary>Approximate memory held, for the cache budget.</summary>
    public long SizeInBytes => 64 + ((long?)Bits?.Length * sizeof(ulong) ?? (long)Ids!.Length * sizeof(int)) + ((long)Deferrals.Length * 12);

    public void AddTo(Span<ulong> mask)
    {
        if (Bits is not null)
        {
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] |= Bits[i];
            }
        }
        else
        {
            foreach (int id in Ids!)
            {
                mask[id >> 6] |= 1UL << (id & 63);
            }
        }
    }
}
