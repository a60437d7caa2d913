using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Capa.Protocol.VectorStores;
using Capa.Storage.VectorStores;

namespace Capa.Server.VectorStores;

/// <summary>A ranked chunk.</summary>
internal sealed record SearchHit(SearchableChunk Chunk, double Score);

/// <summary>A ranked chunk before its text is read: its index among the searched rows (blocks one after the other), its key and its score.</summary>
internal readonly record struct RankedChunk(int Index, ChunkKey Key, double Score);

/// <summary>
/// Exact search over a vector store's chunks: cosine similarity of unit vectors, BM25 over the chunks' words, and the
/// two rankings fused by weighted reciprocal rank (k = 60) — the same arithmetic on SQLite and PostgreSQL, since the
/// scoring runs here. BM25's corpus statistics (chunk count, total length, each term's document frequency) and the
/// term frequencies come from the keyword index the store keeps on insert and delete, so a search reads the vectors
/// (from memory while the store's chunks are unchanged) and the query terms' postings and tokenizes nothing but the
/// query. Filters choose the candidates; the statistics stay those of the whole store, as a search engine's do. Scores
/// are in [0, 1]: fused scores are divided by the best score possible (first in both rankings); with the <c>none</c>
/// ranker the score is the cosine similarity mapped from [-1, 1].
/// </summary>
internal static class HybridSearch
{
    private const double RrfK = 60, K1 = 1.2, B = 0.75;

    /// <summary>Ranks in-memory chunks (their postings computed here): the store-backed path's arithmetic on a list.</summary>
    public static List<SearchHit> Search(IReadOnlyList<SearchableChunk> chunks, IReadOnlyList<float[]> queryVectors, IReadOnlyList<string> queries,
        VectorStoreFilter? filter, RankingOptions ranking, int maxResults)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var block = ChunkVectorBlock.From([.. chunks.Select(c => new ChunkVector(Key(c), c.Embedding))]);
        var keywords = Index(chunks, queries);
        var accepted = filter is null
            ? null
            : chunks.Select(c => { using var a = JsonDocument.Parse(c.AttributesJson); return filter.Matches(a.RootElement); }).ToArray();
        return [.. Rank([block], accepted, keywords, queryVectors, queries, ranking, maxResults).Select(r => new SearchHit(chunks[r.Index], r.Score))];
    }

    /// <summary>
    /// Ranks the rows of <paramref name="blocks"/> (those <paramref name="accepted"/> allows, indexed over the blocks one
    /// after the other; all when null) for the queries; returns at most <paramref name="maxResults"/> at or above the
    /// score threshold, best first, ties by file and position.
    /// </summary>
    public static List<RankedChunk> Rank(IReadOnlyList<ChunkVectorBlock> blocks, bool[]? accepted, KeywordStatistics keywords, IReadOnlyList<float[]> queryVectors,
        IReadOnlyList<string> queries, RankingOptions ranking, int maxResults)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentNullException.ThrowIfNull(queryVectors);
        var rows = blocks.Sum(b => b.Count);
        var candidates = new List<int>(rows);
        var keys = new List<ChunkKey>(rows);
        var cosines = new List<double>(rows);

        // Cosine: the best over the queries, row by row through each block's contiguous vectors.
        var index = 0;
        foreach (var block in blocks)
        {
            for (var r = 0; r < block.Count; r++, index++)
            {
                if (accepted is not null && !accepted[index])
                {
                    continue;
                }

                var embedding = block.Vector(r);
                var best = double.MinValue;
                foreach (var q in queryVectors)
                {
                    if (q.Length == embedding.Length)
                    {
                        best = Math.Max(best, TensorPrimitives.Dot(q, embedding));
                    }
                }

                candidates.Add(index);
                keys.Add(block.Key(r));
                cosines.Add(best == double.MinValue ? -1 : Math.Clamp(best, -1, 1));
            }
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        var cosine = cosines.ToArray();
        double[] scores;
        if (ranking.Ranker == "none")
        {
            scores = [.. cosine.Select(c => (c + 1) / 2)];
        }
        else
        {
            var position = new Dictionary<ChunkKey, int>(candidates.Count);
            for (var c = 0; c < candidates.Count; c++)
            {
                position[keys[c]] = c;
            }

            var bm25 = Bm25(keywords, queries, position, candidates.Count);
            var embeddingRank = Ranks(cosine, _ => true);
            var textRank = Ranks(bm25, s => s > 0);
            var best = (ranking.EmbeddingWeight + ranking.TextWeight) / (RrfK + 1);
            scores = new double[candidates.Count];
            for (var c = 0; c < candidates.Count; c++)
            {
                var fused = ranking.EmbeddingWeight / (RrfK + embeddingRank[c]);
                if (textRank[c] > 0)
                {
                    fused += ranking.TextWeight / (RrfK + textRank[c]);
                }

                scores[c] = fused / best;
            }
        }

        return [.. Enumerable.Range(0, candidates.Count)
            .Where(c => scores[c] >= ranking.ScoreThreshold)
            .OrderByDescending(c => scores[c]).ThenBy(c => keys[c].FileId, StringComparer.Ordinal).ThenBy(c => keys[c].Position)
            .Take(maxResults)
            .Select(c => new RankedChunk(candidates[c], keys[c], Math.Round(scores[c], 6)))];
    }

    /// <summary>1-based ranks by descending score for the entries <paramref name="include"/> accepts, 0 for the rest.</summary>
    private static int[] Ranks(double[] scores, Func<double, bool> include)
    {
        var ranks = new int[scores.Length];
        var order = Enumerable.Range(0, scores.Length).Where(i => include(scores[i])).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        for (var r = 0; r < order.Length; r++)
        {
            ranks[order[r]] = r + 1;
        }

        return ranks;
    }

    /// <summary>BM25 (k1 1.2, b 0.75) of every chunk for the queries' terms, summed over queries (the in-memory path).</summary>
    internal static double[] Bm25(IReadOnlyList<SearchableChunk> chunks, IReadOnlyList<string> queries)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var position = new Dictionary<ChunkKey, int>(chunks.Count);
        for (var i = 0; i < chunks.Count; i++)
        {
            position[Key(chunks[i])] = i;
        }

        return Bm25(Index(chunks, queries), queries, position, chunks.Count);
    }

    /// <summary>BM25 of the candidates (<paramref name="position"/> maps a chunk to its slot) from a keyword index's statistics and postings.</summary>
    private static double[] Bm25(KeywordStatistics keywords, IReadOnlyList<string> queries, Dictionary<ChunkKey, int> position, int count)
    {
        var scores = new double[count];
        if (keywords.ChunkCount <= 0)
        {
            return scores;
        }

        var average = Math.Max((double)keywords.TermCount / keywords.ChunkCount, 1);
        var byTerm = keywords.Postings.GroupBy(p => p.Term, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var query in queries)
        {
            foreach (var term in KeywordTerms.Split(query).Distinct(StringComparer.Ordinal))
            {
                if (!byTerm.TryGetValue(term, out var postings))
                {
                    continue;
                }

                var containing = postings.Count;
                var idf = Math.Log(1 + ((keywords.ChunkCount - containing + 0.5) / (containing + 0.5)));
                foreach (var posting in postings)
                {
                    if (position.TryGetValue(posting.Chunk, out var slot))
                    {
                        double tf = posting.Frequency;
                        scores[slot] += idf * tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * posting.ChunkLength / average))));
                    }
                }
            }
        }

        return scores;
    }

    /// <summary>The keyword statistics of in-memory chunks for the queries' terms, as the store's index holds them.</summary>
    private static KeywordStatistics Index(IReadOnlyList<SearchableChunk> chunks, IReadOnlyList<string> queries)
    {
        var wanted = queries.SelectMany(KeywordTerms.Split).ToHashSet(StringComparer.Ordinal);
        var postings = new List<KeywordPosting>();
        long total = 0;
        foreach (var chunk in chunks)
        {
            var (frequencies, length) = KeywordTerms.Count(chunk.Text);
            total += length;
            postings.AddRange(frequencies.Where(f => wanted.Contains(f.Key)).Select(f => new KeywordPosting(Key(chunk), f.Key, f.Value, length)));
        }

        return new KeywordStatistics(chunks.Count, total, postings);
    }

    private static ChunkKey Key(SearchableChunk chunk) => new(chunk.VectorStoreId, chunk.FileId, chunk.Position);

    /// <summary>Lowercase words of letters and digits; each CJK ideograph is a term of its own.</summary>
    internal static List<string> Terms(string text) => KeywordTerms.Split(text);

    /// <summary>The text of a score for logs.</summary>
    public static string Format(double score) => score.ToString("0.000", CultureInfo.InvariantCulture);
}
