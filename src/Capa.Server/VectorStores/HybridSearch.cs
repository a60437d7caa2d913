using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Capa.Protocol.VectorStores;
using Capa.Storage.VectorStores;

namespace Capa.Server.VectorStores;

/// <summary>A ranked chunk.</summary>
internal sealed record SearchHit(SearchableChunk Chunk, double Score);

/// <summary>
/// Exact search over a vector store's chunks: cosine similarity of unit vectors, BM25 over the chunks' words, and the
/// two rankings fused by weighted reciprocal rank (k = 60) — the same arithmetic on SQLite and PostgreSQL, since the
/// scoring runs here. Scores are in [0, 1]: fused scores are divided by the best score possible (first in both
/// rankings); with the <c>none</c> ranker the score is the cosine similarity mapped from [-1, 1].
/// </summary>
internal static class HybridSearch
{
    private const double RrfK = 60, K1 = 1.2, B = 0.75;

    public static List<SearchHit> Search(IReadOnlyList<SearchableChunk> chunks, IReadOnlyList<float[]> queryVectors, IReadOnlyList<string> queries,
        VectorStoreFilter? filter, RankingOptions ranking, int maxResults)
    {
        var candidates = filter is null
            ? chunks
            : chunks.Where(c => { using var a = JsonDocument.Parse(c.AttributesJson); return filter.Matches(a.RootElement); }).ToList();
        if (candidates.Count == 0)
        {
            return [];
        }

        // Cosine: the best over the queries.
        var cosine = new double[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            var best = double.MinValue;
            foreach (var q in queryVectors)
            {
                if (q.Length == candidates[i].Embedding.Length)
                {
                    best = Math.Max(best, TensorPrimitives.Dot(q, candidates[i].Embedding));
                }
            }

            cosine[i] = best == double.MinValue ? -1 : Math.Clamp(best, -1, 1);
        }

        double[] scores;
        if (ranking.Ranker == "none")
        {
            scores = [.. cosine.Select(c => (c + 1) / 2)];
        }
        else
        {
            var bm25 = Bm25(candidates, queries);
            var embeddingRank = Ranks(cosine, _ => true);
            var textRank = Ranks(bm25, s => s > 0);
            var best = (ranking.EmbeddingWeight + ranking.TextWeight) / (RrfK + 1);
            scores = new double[candidates.Count];
            for (var i = 0; i < candidates.Count; i++)
            {
                var fused = ranking.EmbeddingWeight / (RrfK + embeddingRank[i]);
                if (textRank[i] > 0)
                {
                    fused += ranking.TextWeight / (RrfK + textRank[i]);
                }

                scores[i] = fused / best;
            }
        }

        return [.. Enumerable.Range(0, candidates.Count)
            .Where(i => scores[i] >= ranking.ScoreThreshold)
            .OrderByDescending(i => scores[i]).ThenBy(i => candidates[i].FileId, StringComparer.Ordinal).ThenBy(i => candidates[i].Position)
            .Take(maxResults)
            .Select(i => new SearchHit(candidates[i], Math.Round(scores[i], 6)))];
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

    /// <summary>BM25 (k1 1.2, b 0.75) of every chunk for the queries' terms, summed over queries.</summary>
    internal static double[] Bm25(IReadOnlyList<SearchableChunk> chunks, IReadOnlyList<string> queries)
    {
        var documents = chunks.Select(c => Terms(c.Text)).ToList();
        var average = documents.Count == 0 ? 0 : documents.Average(d => d.Count);
        var frequencies = documents.Select(d => d.GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)).ToList();
        var scores = new double[chunks.Count];
        foreach (var query in queries)
        {
            foreach (var term in Terms(query).Distinct(StringComparer.Ordinal))
            {
                var containing = frequencies.Count(f => f.ContainsKey(term));
                if (containing == 0)
                {
                    continue;
                }

                var idf = Math.Log(1 + ((documents.Count - containing + 0.5) / (containing + 0.5)));
                for (var i = 0; i < chunks.Count; i++)
                {
                    if (frequencies[i].TryGetValue(term, out var tf))
                    {
                        scores[i] += idf * tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * documents[i].Count / Math.Max(average, 1)))));
                    }
                }
            }
        }

        return scores;
    }

    /// <summary>Lowercase words of letters and digits; each CJK ideograph is a term of its own.</summary>
    internal static List<string> Terms(string text)
    {
        var terms = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsIdeograph(rune.Value))
            {
                Flush();
                terms.Add(rune.ToString());
            }
            else if (Rune.IsLetterOrDigit(rune))
            {
                current.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else
            {
                Flush();
            }
        }

        Flush();
        return terms;

        void Flush()
        {
            if (current.Length > 0)
            {
                terms.Add(current.ToString());
                current.Clear();
            }
        }
    }

    private static bool IsIdeograph(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2FA1F) or (>= 0xF900 and <= 0xFAFF)
            or (>= 0x3040 and <= 0x30FF) or (>= 0xAC00 and <= 0xD7AF);

    /// <summary>The text of a score for logs.</summary>
    public static string Format(double score) => score.ToString("0.000", CultureInfo.InvariantCulture);
}
