namespace Capa.Constraints.Vocabulary;

/// <summary>
/// A model's tokens as byte strings (index = token id) and its end-of-sequence ids, with the byte trie the
/// mask computation walks. Build one per model and share it: it is immutable and thread-safe. Tokens with no
/// bytes (special and control tokens) are never allowed inside a constrained value; end-of-sequence ids are
/// allowed exactly when the value is complete.
/// </summary>
public sealed class TokenVocabulary
{
    private readonly byte[][] _tokens;
    private readonly bool[] _isEos;

    private TokenVocabulary(byte[][] tokens, int[] eos)
    {
        _tokens = tokens;
        EndOfSequenceIds = eos;
        _isEos = new bool[tokens.Length];
        foreach (int id in eos)
        {
            _isEos[id] = true;
        }

        Trie = new TokenTrie(tokens, _isEos);
    }

    /// <summary>Number of token ids (mask length in bits).</summary>
    public int Count => _tokens.Length;

    /// <summary>The ids that end a sequence.</summary>
    public IReadOnlyList<int> EndOfSequenceIds { get; }

    /// <summary>Length of a bit mask in 64-bit words.</summary>
    public int MaskWords => (_tokens.Length + 63) / 64;

    internal TokenTrie Trie { get; }

    /// <summary>Creates a vocabulary; <paramref name="tokenBytes"/>[id] is token id's bytes (empty for special tokens).</summary>
    public static TokenVocabulary Create(IReadOnlyList<ReadOnlyMemory<byte>> tokenBytes, IEnumerable<int> endOfSequenceIds)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        ArgumentNullException.ThrowIfNull(endOfSequenceIds);
        var tokens = new byte[tokenBytes.Count][];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = tokenBytes[i].ToArray();
        }

        int[] eos = [.. endOfSequenceIds.Distinct()];
        if (eos.Length == 0)
        {
            throw new ArgumentException("At least one end-of-sequence id is required.", nameof(endOfSequenceIds));
        }

        foreach (int id in eos)
        {
            if ((uint)id >= (uint)tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(endOfSequenceIds), id, "End-of-sequence id outside the vocabulary.");
            }
        }

        return new TokenVocabulary(tokens, eos);
    }

    /// <summary>The bytes of <paramref name="tokenId"/> (empty for special tokens).</summary>
    public ReadOnlySpan<byte> GetBytes(int tokenId) => _tokens[tokenId];

    /// <summary>Whether <paramref name="tokenId"/> ends a sequence.</summary>
    public bool IsEndOfSequence(int tokenId) => (uint)tokenId < (uint)_isEos.Length && _isEos[tokenId];
}
