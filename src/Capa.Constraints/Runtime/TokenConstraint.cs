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

    /// <summary>At most this many masks are cached (each is <see cref="TokenVocabulary.MaskWords"/> words).</summary>
    public int MaxCacheEntries { get; }

    /// <summary>Number of masks cached so far.</summary>
    public int CachedMasks => _cache.Count;

    /// <summary>Binds <paramref name="grammar"/> to <paramref name="vocabulary"/>.</summary>
    public static TokenConstraint Create(Grammar grammar, TokenVocabulary vocabulary, int maxCacheEntries = 256)
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

/// <summary>Tokens accepted within a frame, and where (trie child, byte, consumed) the frame completes.</summary>
internal sealed record MaskEntry(ulong[] Bits, (int TrieNode, byte Byte, bool Consumed)[] Deferrals);
