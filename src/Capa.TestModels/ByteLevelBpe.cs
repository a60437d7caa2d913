using System.Text;
using System.Text.RegularExpressions;

namespace Capa.TestModels;

/// <summary>
/// A small, deterministic byte-level BPE trainer (GPT-2 / Qwen2 style): text is split by the pre-tokenizer
/// regex, each piece is mapped byte by byte onto printable characters, and the most frequent adjacent pair is
/// merged until the merge budget is spent. Ties go to the pair with the lower ids, so training is reproducible.
/// </summary>
internal sealed partial class ByteLevelBpe
{
    /// <summary>Qwen2's pre-tokenizer pattern (a letter run may take one leading non-letter; digits one by one).</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3's pattern: like Qwen2's but digits in runs of up to three.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly char[] ByteToChar = BuildByteMap();

    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<(int, int), int> _mergeRanks;

    private ByteLevelBpe(List<string> tokens, List<(int Left, int Right)> merges)
    {
        Tokens = tokens;
        Merges = merges;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            _ids[tokens[i]] = i;
        }

        _mergeRanks = [];
        for (int i = 0; i < merges.Count; i++)
        {
            _mergeRanks[merges[i]] = i;
        }
    }

    /// <summary>The tokens by id: the 256 byte tokens first, then one per merge.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The merges in rank order, as pairs of token ids.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }

    /// <summary>The byte-level character standing for a byte (GPT-2's bytes_to_unicode).</summary>
    public static char ByteChar(byte b) => ByteToChar[b];

    /// <summary>Trains on <paramref name="corpus"/> (NFC-normalized first) with at most <paramref name="maxMerges"/> merges.</summary>
    public static ByteLevelBpe Train(string corpus, int maxMerges)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var tokens = new List<string>(256 + maxMerges);
        var byteIds = new int[256];
        // Byte tokens in bytes_to_unicode order (printable bytes first), as GPT-2 and Qwen number them.
        foreach (int b in ByteOrder())
        {
            byteIds[b] = tokens.Count;
            tokens.Add(ByteToChar[b].ToString());
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in QwenRegex().Matches(corpus.Normalize(NormalizationForm.FormC)))
        {
            counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        }

        var pieces = counts.Keys.ToArray();
        Array.Sort(pieces, StringComparer.Ordinal);
        var words = new List<int>[pieces.Length];
        var freq = new int[pieces.Length];
        for (int w = 0; w < pieces.Length; w++)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(pieces[w]);
            words[w] = [.. bytes.Select(b => byteIds[b])];
            freq[w] = counts[pieces[w]];
        }

        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        for (int w = 0; w < words.Length; w++)
        {
            AddPairs(words[w], w, freq[w], pairCounts, pairWords);
        }

        var merges = new List<(int, int)>(maxMerges);
        while (merges.Count < maxMerges && pairCounts.Count > 0)
        {
            (int, int) best = default;
            long bestCount = 0;
            foreach (var (pair, count) in pairCounts)
            {
                if (count > bestCount || (count == bestCount && pair.CompareTo(best) < 0))
                {
                    (best, bestCount) = (pair, count);
                }
            }

            if (bestCount < 1)
            {
                break;
            }

            int merged = tokens.Count;
            tokens.Add(tokens[best.Item1] + tokens[best.Item2]);
            merges.Add(best);
            int[] affected = [.. pairWords[best]];
            Array.Sort(affected);
            foreach (int w in affected)
            {
                RemovePairs(words[w], freq[w], pairCounts);
                Merge(words[w], best.Item1, best.Item2, merged);
                AddPairs(words[w], w, freq[w], pairCounts, pairWords);
            }

            pairCounts.Remove(best);
            pairWords.Remove(best);
        }

        return new ByteLevelBpe(tokens, merges);
    }

    /// <summary>Encodes plain text (no special tokens) with the learned merges, lowest rank first.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        foreach (Match m in QwenRegex().Matches(text.Normalize(NormalizationForm.FormC)))
        {
            var symbols = Encoding.UTF8.GetBytes(m.Value).Select(b => _ids[ByteToChar[b].ToString()]).ToList();
            while (symbols.Count > 1)
            {
                int bestRank = int.MaxValue, bestAt = -1;
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (_mergeRanks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                    {
                        (bestRank, bestAt) = (rank, i);
                    }
                }

                if (bestAt < 0)
                {
                    break;
                }

                var (left, right) = Merges[bestRank];
                Merge(symbols, left, right, 256 + bestRank);
            }

            ids.AddRange(symbols);
        }

        return ids;
    }

    [GeneratedRegex(QwenPattern)]
    private static partial Regex QwenRegex();

    private static void AddPairs(List<int> word, int w, int freq, Dictionary<(int, int), long> counts, Dictionary<(int, int), HashSet<int>> where)
    {
        for (int i = 0; i + 1 < word.Count; i++)
        {
            var pair = (word[i], word[i + 1]);
            counts[pair] = counts.GetValueOrDefault(pair) + freq;
            if (!where.TryGetValue(pair, out var set))
            {
                where[pair] = set = [];
            }

            set.Add(w);
        }
    }

    private static void RemovePairs(List<int> word, int freq, Dictionary<(int, int), long> counts)
    {
        for (int i = 0; i + 1 < word.Count; i++)
        {
            var pair = (word[i], word[i + 1]);
            long left = counts[pair] - freq;
            if (left > 0)
            {
                counts[pair] = left;
            }
            else
            {
                counts.Remove(pair);
            }
        }
    }

    private static void Merge(List<int> word, int left, int right, int merged)
    {
        int write = 0;
        for (int read = 0; read < word.Count; read++)
        {
            if (read + 1 < word.Count && word[read] == left && word[read + 1] == right)
            {
                word[write++] = merged;
                read++;
            }
            else
            {
                word[write++] = word[read];
            }
        }

        word.RemoveRange(write, word.Count - write);
    }

    private static IEnumerable<int> ByteOrder()
    {
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++)
        {
            printable.Add(b);
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            printable.Add(b);
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            printable.Add(b);
        }

        var rest = Enumerable.Range(0, 256).Where(b => !printable.Contains(b));
        return printable.Concat(rest);
    }

    private static char[] BuildByteMap()
    {
        var map = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + next++);
        }

        return map;
    }
}
