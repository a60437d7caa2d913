using Capa.Protocol.VectorStores;
using Capa.Server.VectorStores;
using Capa.Storage.VectorStores;

namespace Capa.Server.Tests.VectorStores;

public sealed class HybridSearchTests
{
    private static SearchableChunk Chunk(string file, string text, float[] vector, string attributes = "{}") => new("vs_1", file, attributes, 0, text, vector);

    [Fact]
    public void Bm25_prefers_rare_terms_and_shorter_documents()
    {
        var chunks = new[]
        {
            Chunk("a", "the cat sat on the mat", [1, 0]),
            Chunk("b", "the dog sat on the log and the cat watched the dog for a long long time", [1, 0]),
            Chunk("c", "the the the", [1, 0]),
        };
        var scores = HybridSearch.Bm25(chunks, ["cat"]);
        Assert.True(scores[0] > scores[1]);
        Assert.Equal(0, scores[2]);
        Assert.Equal(["英", "雄", "联", "盟", "lol", "2"], HybridSearch.Terms("英雄联盟 LoL-2"));
    }

    [Fact]
    public void Fusion_puts_a_keyword_match_above_a_closer_vector_and_scores_stay_in_0_1()
    {
        var chunks = new[]
        {
            Chunk("near", "nothing relevant here", [1, 0]),
            Chunk("keyword", "the answer is zyzzogeton", [0, 1]),
            Chunk("far", "also nothing", [-1, 0]),
        };
        var hits = HybridSearch.Search(chunks, [[1f, 0f]], ["zyzzogeton"], null, new RankingOptions(), 10);
        Assert.Equal("keyword", hits[0].Chunk.FileId);
        Assert.All(hits, h => Assert.InRange(h.Score, 0, 1));

        // Vector similarity alone ranks by the cosine, mapped to [0, 1].
        var vectorOnly = HybridSearch.Search(chunks, [[1f, 0f]], ["zyzzogeton"], null, new RankingOptions { Ranker = "none" }, 10);
        Assert.Equal(["near", "keyword", "far"], vectorOnly.Select(h => h.Chunk.FileId));
        Assert.Equal([1.0, 0.5, 0.0], vectorOnly.Select(h => h.Score));

        // A text weight of zero leaves only the vector ranking.
        var embeddingOnly = HybridSearch.Search(chunks, [[1f, 0f]], ["zyzzogeton"], null, new RankingOptions { TextWeight = 0 }, 10);
        Assert.Equal("near", embeddingOnly[0].Chunk.FileId);
        Assert.Equal(1.0, embeddingOnly[0].Score);
    }

    [Fact]
    public void Filters_and_thresholds_drop_chunks_before_and_after_ranking()
    {
        var chunks = new[]
        {
            Chunk("a", "alpha", [1, 0], """{"lang":"en","n":1}"""),
            Chunk("b", "alpha", [1, 0], """{"lang":"zh","n":5}"""),
        };
        using var filter = System.Text.Json.JsonDocument.Parse("""{"type":"and","filters":[{"type":"ne","key":"lang","value":"en"},{"type":"lte","key":"n","value":5}]}""");
        Assert.True(VectorStoreRequestReader.TryReadFilter(filter.RootElement, "filters", out var parsed, out _));
        var hits = HybridSearch.Search(chunks, [[1f, 0f]], ["alpha"], parsed, new RankingOptions(), 10);
        Assert.Equal(["b"], hits.Select(h => h.Chunk.FileId));
        Assert.Empty(HybridSearch.Search(chunks, [[0f, 1f]], ["zzz"], null, new RankingOptions { Ranker = "none", ScoreThreshold = 0.9 }, 10));
    }

    [Fact]
    public void Ranking_over_several_blocks_equals_ranking_over_one_with_the_same_rows()
    {
        var random = new Random(2);
        var vectors = Enumerable.Range(0, 40).Select(i => new ChunkVector(new ChunkKey(i < 25 ? "vs_a" : "vs_b", "file-" + (i % 7), i), [.. Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() - 0.5))])).ToList();
        var postings = vectors.Where((_, i) => i % 3 == 0).Select(v => new KeywordPosting(v.Key, "alpha", 1 + (v.Key.Position % 4), 10)).ToList();
        var keywords = new KeywordStatistics(vectors.Count, 400, postings);
        float[] query = [.. Enumerable.Range(0, 8).Select(_ => (float)(random.NextDouble() - 0.5))];
        var accepted = vectors.Select((_, i) => i % 5 != 1).ToArray();
        var split = new[] { ChunkVectorBlock.From(vectors[..25]), ChunkVectorBlock.From(vectors[25..]) };
        var whole = new[] { ChunkVectorBlock.From(vectors) };
        foreach (var ranking in new[] { new RankingOptions(), new RankingOptions { Ranker = "none" } })
        {
            var expected = HybridSearch.Rank(whole, accepted, keywords, [query], ["alpha"], ranking, 50);
            var actual = HybridSearch.Rank(split, accepted, keywords, [query], ["alpha"], ranking, 50);
            Assert.Equal(32, expected.Count);
            Assert.Equal(expected, actual);
            Assert.All(actual, r => Assert.Equal(vectors[r.Index].Key, r.Key));
            Assert.DoesNotContain(actual, r => !accepted[r.Index]);
        }
    }
}
