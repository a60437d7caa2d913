using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Models;

/// <summary>
/// Byte-pair encoding as the tokenizers library's BPE model does it: each word starts as its characters
/// (unknown ones become byte tokens with byte_fallback, or the unk token), then the lowest-ranked adjacent pair
/// is merged, leftmost first, until no pair has a rank. Results are cached per word.
/// </summary>
internal sealed class BpeModel : TokenizerModel
{
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly int[] _byteTokenIds;

    private BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int, int)> merges, BpeOptions options)
    {
        _vocab = vocab;
        _merges = merges;
        Options = options;
        UnkId = options.UnkToken is { } unk && vocab.TryGetValue(unk, out int id) ? id : null;
        _byteTokenIds = new int[256];
        for (int b = 0; b < 256; b++)
        {
            _byteTokenIds[b] = vocab.TryGetValue(ByteTokenName((byte)b), out int byteId) ? byteId : -1;
        }
    }

    public BpeOptions Options { get; }

    /// <summary>The model's vocabulary (token to id), without added tokens.</summary>
    public override IReadOnlyDictionary<string, int> Vocab => _vocab;

    public override int? UnkId { get; }

    public override string? UnkToken => Options.UnkToken;

    public override bool FusesUnknownRuns => Options is { FuseUnk: true, ByteFallback: false } && UnkId is not null;

    /// <summary>The name SentencePiece-style vocabularies give a byte token: "&lt;0x0A&gt;".</summary>
    public static string ByteTokenName(byte value) => string.Create(CultureInfo.InvariantCulture, $"<0x{value:X2}>");

    /// <summary>Builds the model from a tokenizer.json "model" object.</summary>
    public static BpeModel Create(JsonElement config)
    {
        string type = config.GetString("type") ?? "BPE";
        if (type != "BPE")
        {
            throw new NotSupportedException($"tokenizer.json model type \"{type}\" is not supported; only BPE models are.");
        }

        var vocabElement = config.Get("vocab");
        if (vocabElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("tokenizer.json model.vocab must be an object of token to id.");
        }

        var vocab = new Dictionary<string, int>(vocabElement.GetPropertyCount(), StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            vocab[entry.Name] = entry.Value.GetInt32();
        }

        var mergesElement = config.Get("merges");
        var mergePairs = new List<(string, string)>(mergesElement.ValueKind == JsonValueKind.Array ? mergesElement.GetArrayLength() : 0);
        if (mergesElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var merge in mergesElement.EnumerateArray())
            {
                if (merge.ValueKind == JsonValueKind.String)
                {
                    mergePairs.Add(SplitMergeLine(merge.GetString()!));
                }
                else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
                {
                    mergePairs.Add((merge[0].GetString()!, merge[1].GetString()!));
                }
                else
                {
                    throw new FormatException("tokenizer.json model.merges entries must be \"a b\" strings or [a, b] pairs.");
                }
            }
        }
        else if (!mergesElement.IsNullOrMissing())
        {
            throw new FormatException("tokenizer.json model.merges must be an array.");
        }

        var options = new BpeOptions
        {
            UnkToken = config.GetString("unk_token"),
            FuseUnk = config.GetBool("fuse_unk", false),
            ByteFallback = config.GetBool("byte_fallback", false),
            IgnoreMerges = config.GetBool("ignore_merges", false),
            ContinuingSubwordPrefix = NullIfEmpty(config.GetString("continuing_subword_prefix")),
            EndOfWordSuffix = NullIfEmpty(config.GetString("end_of_word_suffix")),
        };
        return Create(vocab, mergePairs, options);
    }

    /// <summary>Builds the model from a vocabulary and merges in rank order.</summary>
    public static BpeModel Create(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> mergePairs, BpeOptions options)
    {
        var merges = new Dictionary<long, (int, int)>(mergePairs.Count, PairKeyComparer.Instance);
        var lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        int prefixLength = options.ContinuingSubwordPrefix?.Length ?? 0;
        char[] buffer = new char[64];
        for (int rank = 0; rank < mergePairs.Count; rank++)
        {
            var (left, right) = mergePairs[rank];
            if (!vocab.TryGetValue(left, out int leftId) || !vocab.TryGetValue(right, out int rightId))
            {
                throw new FormatException($"BPE merge {rank} (\"{left}\" \"{right}\") names a token that is not in the vocabulary.");
            }

            // The merged token is looked up without allocating it: merges number in the hundreds of thousands.
            ReadOnlySpan<char> rightPart = prefixLength > 0 && right.StartsWith(options.ContinuingSubwordPrefix!, StringComparison.Ordinal)
                ? right.AsSpan(prefixLength)
                : right.AsSpan();
            int length = left.Length + rightPart.Length;
            if (buffer.Length < length)
            {
                buffer = new char[length * 2];
            }

            left.CopyTo(buffer);
            rightPart.CopyTo(buffer.AsSpan(left.Length));
            if (!lookup.TryGetValue(buffer.AsSpan(0, length), out int newId))
            {
                throw new FormatException($"BPE merge {rank} produces \"{new string(buffer, 0, length)}\", which is not in the vocabulary.");
            }

            merges.TryAdd(PairKey(leftId, rightId), (rank, newId));
        }

        return new BpeModel(vocab, merges, options);
    }

    /// <summary>Splits a merges.txt / tokenizer.json merge line "a b".</summary>
    public static (string Left, string Right) SplitMergeLine(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
        {
            throw new FormatException($"BPE merge \"{line}\" is not two tokens separated by one space.");
        }

        return (line[..space], line[(space + 1)..]);
    }

    /// <summary>Appends the ids of <paramref name="word"/> (one pre-tokenized piece) to <paramref name="output"/>.</summary>
    public override void Encode(string word, List<int> output)
    {
        if (word.Length == 0)
        {
            return;
        }

        if (Options.IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            output.Add(whole);
            return;
        }

        if (_cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int[] ids = EncodeWord(word);
        if (word.Length < MaxCachedWordLength)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }

            _cache.TryAdd(word, ids);
        }

        output.AddRange(ids);
    }

    private int[] EncodeWord(string word)
    {
        // Initial symbols: one per character, or its byte tokens, or unk (fused when asked).
        var ids = new List<int>(word.Length);
        bool previousWasUnk = false;
        int charCount = 0;
        foreach (var _ in word.EnumerateRunes())
        {
            charCount++;
        }

        int index = 0;
        foreach (var rune in word.EnumerateRunes())
        {
            string symbol = rune.ToString();
            if (index > 0 && Options.ContinuingSubwordPrefix is { } prefix)
            {
                symbol = prefix + symbol;
            }

            if (index == charCount - 1 && Options.EndOfWordSuffix is { } suffix)
            {
                symbol += suffix;
            }

            index++;
            if (_vocab.TryGetValue(symbol, out int id))
            {
                ids.Add(id);
                previousWasUnk = false;
                continue;
            }

            if (Options.ByteFallback && TryAddByteTokens(rune, ids))
            {
                previousWasUnk = false;
                continue;
            }

            if (UnkId is { } unk)
            {
                if (!(Options.FuseUnk && previousWasUnk))
                {
                    ids.Add(unk);
                }

                previousWasUnk = true;
            }
        }

        if (ids.Count < 2 || _merges.Count == 0)
        {
            return [.. ids];
        }

        return Merge(ids);
    }

    private bool TryAddByteTokens(Rune rune, List<int> ids)
    {
        Span<byte> utf8 = stackalloc byte[4];
        int length = rune.EncodeToUtf8(utf8);
        for (int i = 0; i < length; i++)
        {
            if (_byteTokenIds[utf8[i]] < 0)
            {
                return false;
            }
        }

        for (int i = 0; i < length; i++)
        {
            ids.Add(_byteTokenIds[utf8[i]]);
        }

        return true;
    }

    private int[] Merge(List<int> initial)
    {
        int n = initial.Count;
        int[] ids = [.. initial];
        int[] next = new int[n];
        int[] previous = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            previous[i] = i - 1;
        }

        // Priority: rank, then position; stale entries are detected on pop by re-reading the pair.
        var queue = new PriorityQueue<int, long>(n);
        for (int i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var merge))
            {
                queue.Enqueue(i, Priority(merge.Rank, i));
            }
        }

        bool[] removed = new bool[n];
        int remaining = n;
        while (queue.TryDequeue(out int pos, out long priority))
        {
            if (removed[pos] || next[pos] < 0)
            {
                continue;
            }

            int right = next[pos];
            if (!_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var merge) || Priority(merge.Rank, pos) != priority)
            {
                continue;
            }

            ids[pos] = merge.NewId;
            removed[right] = true;
            remaining--;
            next[pos] = next[right];
            if (next[pos] >= 0)
            {
                previous[next[pos]] = pos;
            }

            if (previous[pos] >= 0 && _merges.TryGetValue(PairKey(ids[previous[pos]], ids[pos]), out var left))
            {
                queue.Enqueue(previous[pos], Priority(left.Rank, previous[pos]));
            }

            if (next[pos] >= 0 && _merges.TryGetValue(PairKey(ids[pos], ids[next[pos]]), out var following))
            {
                queue.Enqueue(pos, Priority(following.Rank, pos));
            }
        }

        var result = new int[remaining];
        int k = 0;
        for (int i = 0; i >= 0 && k < remaining; i = next[i])
        {
            result[k++] = ids[i];
        }

        return result;
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    private static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>
/// Hashes a pair key with a multiplicative mix: <see cref="long.GetHashCode"/> XORs the two ids, which collides
/// heavily for vocabulary ids (every pair (a, a), and most pairs of small ids, land in few buckets).
/// </summary>
internal sealed class PairKeyComparer : IEqualityComparer<long>
{
    public static readonly PairKeyComparer Instance = new();

    public bool Equals(long x, long y) => x == y;

    public int GetHashCode(long obj) => (int)(((ulong)obj * 0x9E3779B97F4A7C15UL) >> 32);
}

/// <summary>The tokenizer.json BPE model's switches.</summary>
internal sealed record BpeOptions
{
    public string? UnkToken { get; init; }

    public bool FuseUnk { get; init; }

    public bool ByteFallback { get; init; }

    public bool IgnoreMerges { get; init; }

    public string? ContinuingSubwordPrefix { get; init; }

    public string? EndOfWordSuffix { get; init; }
}
