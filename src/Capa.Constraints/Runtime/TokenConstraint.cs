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

    private TokenConstraint(Grammar grammar, TokenVocabulary vocabulary, int maxCacheEntries)
    {
        Grammar = grammar;
        Vocabulary = vocabulary;
        MaxCacheEntries = maxCacheEntries;
    }

    /// <summary>The grammar.</summary>
    public Grammar Grammar { get; }

    /// <summary>The vocabulary.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>At most this many masks are cached (a dense one is <see cref="TokenVocabulary.MaskWords"/> words; most are short id lists).</summary>
    public int MaxCacheEntries { get; }

    /// <summary>Number of masks cached so far.</summary>
    public int CachedMasks => _cache.Count;

    /// <summary>Binds <paramref name="grammar"/> to <paramref name="vocabulary"/>.</summary>
    public static TokenConstraint Create(Grammar grammar, TokenVocabulary vocabulary, int maxCacheEntries = 4096)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCacheEntries);
        return new TokenConstraint(grammar, vocabulary, maxCacheEntries);
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
        if (_cache.Count < MaxCacheEntries && key.Node.IsCacheable(key))
        {
            _cache.TryAdd(key, entry);
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
