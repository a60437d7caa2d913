using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Models;

/// <summary>
/// SentencePiece's unigram language model as the tokenizers library runs it (XLM-RoBERTa, multilingual-e5, T5): a
/// word is cut into the vocabulary pieces whose scores (log probabilities) sum highest, found by Viterbi over the
/// lattice of every piece that starts at every character. A character no single piece covers is an unknown node
/// scored ten below the lowest score; runs of unknown nodes fuse into one unknown id, or with
/// <c>byte_fallback</c> become the <c>&lt;0xNN&gt;</c> pieces of their UTF-8 bytes.
/// </summary>
/// <remarks>
/// Ties between paths go to the one whose last piece starts first, as in the reference lattice (nodes ending at a
/// position are compared in the order they were inserted, a strictly higher score replacing the best).
/// </remarks>
internal sealed class UnigramModel : TokenizerModel
{
    private const double UnknownPenalty = 10.0;
    private const int MaxCachedWordLength = 64;
    private const int MaxCacheEntries = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly double[] _scores;
    private readonly PieceTrie _trie;
    private readonly double _unkScore;
    private readonly int[]? _byteIds;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    private UnigramModel(List<(string Piece, double Score)> pieces, int unkId, bool byteFallback)
    {
        _vocab = new Dictionary<string, int>(pieces.Count, StringComparer.Ordinal);
        _scores = new double[pieces.Count];
        double min = double.PositiveInfinity;
        for (int id = 0; id < pieces.Count; id++)
        {
            // A piece listed twice keeps its last id, as the reference's token-to-id map does.
            _vocab[pieces[id].Piece] = id;
            _scores[id] = pieces[id].Score;
            min = Math.Min(min, pieces[id].Score);
        }

        UnkId = unkId;
        UnkToken = pieces[unkId].Piece;
        _unkScore = min - UnknownPenalty;
        _scores[unkId] = _unkScore;
        _trie = new PieceTrie(_vocab);
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++)
            {
                _byteIds[b] = _vocab.TryGetValue(BpeModel.ByteTokenName((byte)b), out int id) ? id : -1;
            }
        }
    }

    public override IReadOnlyDictionary<string, int> Vocab => _vocab;

    public override int? UnkId { get; }

    public override string? UnkToken { get; }

    // Unknown runs fuse into one id unless byte fallback spells them out.
    public override bool FusesUnknownRuns => _byteIds is null;

    /// <summary>The score of a piece (the unknown piece's is the penalised one the lattice uses).</summary>
    public double Score(int id) => _scores[id];

    /// <summary>Builds the model from a tokenizer.json "model" object of type Unigram.</summary>
    public static UnigramModel Create(JsonElement config)
    {
        var vocabElement = config.Get("vocab");
        if (vocabElement.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("tokenizer.json Unigram model.vocab must be an array of [piece, score] pairs.");
        }

        var pieces = new List<(string, double)>(vocabElement.GetArrayLength());
        foreach (var entry in vocabElement.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2 || entry[0].ValueKind != JsonValueKind.String || entry[1].ValueKind != JsonValueKind.Number)
            {
                throw new FormatException("tokenizer.json Unigram model.vocab entries must be [piece, score] pairs.");
            }

            pieces.Add((entry[0].GetString()!, entry[1].GetDouble()));
        }

        return Create(pieces, config.Get("unk_id").ValueKind == JsonValueKind.Number ? config.GetInt("unk_id", -1) : null, config.GetBool("byte_fallback", false));
    }

    /// <summary>Builds the model from pieces in id order.</summary>
    public static UnigramModel Create(List<(string Piece, double Score)> pieces, int? unkId, bool byteFallback)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        if (pieces.Count == 0)
        {
            throw new FormatException("tokenizer.json Unigram model.vocab is empty.");
        }

        // The reference refuses a model without an unknown piece: a character no piece covers would have no path.
        if (unkId is not { } unk || unk < 0 || unk >= pieces.Count)
        {
            throw new FormatException($"tokenizer.json Unigram model needs an \"unk_id\" inside its vocabulary of {pieces.Count} pieces.");
        }

        return new UnigramModel(pieces, unk, byteFallback);
    }

    public override void Encode(string word, List<int> output)
    {
        if (word.Length == 0)
        {
            return;
        }

        if (word.Length <= MaxCachedWordLength && _cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int before = output.Count;
        EncodeUncached(word, output);
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries)
        {
            _cache.TryAdd(word, [.. output.Skip(before)]);
        }
    }

    private void EncodeUncached(string word, List<int> output)
    {
        // best[i]: the highest score of a segmentation of word[..i]; from[i] and id[i]: where its last piece starts and
        // which it is (-1: an unknown character). Positions are UTF-16 indices; only character starts are reached.
        int n = word.Length;
        var best = new double[n + 1];
        var from = new int[n + 1];
        var ids = new int[n + 1];
        var reached = new bool[n + 1];
        reached[0] = true;
        for (int start = 0; start < n; start++)
        {
            if (!reached[start])
            {
                continue;
            }

            int charLength = char.IsHighSurrogate(word[start]) && start + 1 < n && char.IsLowSurrogate(word[start + 1]) ? 2 : 1;
            bool single = false;
            int node = PieceTrie.Root;
            for (int end = start; end < n;)
            {
                node = _trie.Child(node, word[end]);
                end++;
                if (node < 0)
                {
                    break;
                }

                int id = _trie.PieceAt(node);
                if (id < 0 || (end < n && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])))
                {
                    continue;
                }

                single |= end - start == charLength;
                Offer(start, end, id, _scores[id]);
            }

            if (!single)
            {
                Offer(start, start + charLength, -1, _unkScore);
            }
        }

        var path = new List<(int Start, int End, int Id)>();
        for (int end = n; end > 0; end = from[end])
        {
            path.Add((from[end], end, ids[end]));
        }

        path.Reverse();
        for (int i = 0; i < path.Count; i++)
        {
            if (path[i].Id >= 0)
            {
                output.Add(path[i].Id);
                continue;
            }

            int runStart = path[i].Start;
            while (i + 1 < path.Count && path[i + 1].Id < 0)
            {
                i++;
            }

            AddUnknown(word.AsSpan(runStart, path[i].End - runStart), output);
        }

        void Offer(int start, int end, int id, double score)
        {
            double total = best[start] + score;
            if (!reached[end] || total > best[end])
            {
                reached[end] = true;
                best[end] = total;
                from[end] = start;
                ids[end] = id;
            }
        }
    }

    private void AddUnknown(ReadOnlySpan<char> run, List<int> output)
    {
        if (_byteIds is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(run.ToArray());
            if (bytes.All(b => _byteIds[b] >= 0))
            {
                foreach (byte b in bytes)
                {
                    output.Add(_byteIds[b]);
                }

                return;
            }
        }

        output.Add(UnkId!.Value);
    }

    /// <summary>The pieces as a trie over UTF-16 units: one hash of (node, unit) to child.</summary>
    private sealed class PieceTrie
    {
        public const int Root = 0;

        private readonly Dictionary<long, int> _children = [];
        private readonly List<int> _pieces = [-1];

        public PieceTrie(Dictionary<string, int> vocab)
        {
            foreach (var (piece, id) in vocab)
            {
                int node = Root;
                foreach (char c in piece)
                {
                    long key = ((long)node << 16) | c;
                    if (!_children.TryGetValue(key, out int child))
                    {
                        child = _pieces.Count;
                        _pieces.Add(-1);
                        _children[key] = child;
                    }

                    node = child;
                }

                if (node != Root)
                {
                    _pieces[node] = id;
                }
            }
        }

        /// <summary>The child of <paramref name="node"/> along <paramref name="c"/>, or -1.</summary>
        public int Child(int node, char c) => _children.TryGetValue(((long)node << 16) | c, out int child) ? child : -1;

        /// <summary>The id of the piece that ends at <paramref name="node"/>, or -1.</summary>
        public int PieceAt(int node) => _pieces[node];
    }
}
