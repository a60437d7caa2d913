using System.Text.Json;

namespace Capa.Engine.Embeddings.Tests;

/// <summary>The checks every encoder architecture's tests make, written once.</summary>
internal static class EncoderAssertions
{
    /// <summary>
    /// Each text encoded alone equals its row of the whole batch (padded to the longest text) within 1e-5; returns the
    /// vectors encoded alone.
    /// </summary>
    public static float[][] BatchedEqualsOneAtATime(SentenceEncoder encoder, string[] corpus)
    {
        var batched = encoder.Encode(corpus);
        var alone = new float[corpus.Length][];
        for (var i = 0; i < corpus.Length; i++)
        {
            alone[i] = encoder.Encode([corpus[i]])[0];
            for (var j = 0; j < alone[i].Length; j++)
            {
                Assert.True(Math.Abs(alone[i][j] - batched[i][j]) <= 1e-5, $"text {i} dim {j}: {alone[i][j]} vs {batched[i][j]}");
            }
        }

        return alone;
    }

    /// <summary>The encoder's ids equal the oracle's (transformers.js <c>embed.mjs</c>) and its vectors are within 1e-4 of them.</summary>
    public static void EqualsOracle(JsonDocument oracle, SentenceEncoder encoder, string[] corpus)
    {
        var vectors = encoder.Encode(corpus);
        for (var i = 0; i < corpus.Length; i++)
        {
            var expectedIds = oracle.RootElement.GetProperty("ids")[i].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(expectedIds, encoder.Tokenize(corpus[i]));
            var expected = oracle.RootElement.GetProperty("vectors")[i].EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(expected.Length, vectors[i].Length);
            for (var j = 0; j < expected.Length; j++)
            {
                Assert.True(Math.Abs(expected[j] - vectors[i][j]) <= 1e-4, $"text {i} dim {j}: transformers.js {expected[j]}, Capa {vectors[i][j]}");
            }
        }
    }
}
