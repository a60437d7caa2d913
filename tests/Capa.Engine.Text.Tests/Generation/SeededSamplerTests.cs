using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class SeededSamplerTests
{
    private static readonly Dictionary<int, int> NoCounts = [];

    private static float[] Logits(params float[] values) => values;

    private static float[] RandomLogits(int width, int salt)
    {
        var rng = new Random(salt);
        var l = new float[width];
        for (var i = 0; i < width; i++)
        {
            l[i] = (float)((rng.NextDouble() * 6) - 3);
        }

        return l;
    }

    [Fact]
    public void Greedy_TakesArgmax_LowestIdOnTies()
    {
        var s = new SeededSampler(new SamplingOptions { Temperature = 0 }, 1, 0, 5);
        Assert.Equal(3, s.Sample(Logits(0, 1, 2, 5, 1), 0, NoCounts, out _));
        Assert.Equal(1, s.Sample(Logits(0, 5, 2, 5, 1), 0, NoCounts, out _));
    }

    [Fact]
    public void Greedy_IsTheSameForAnySeed()
    {
        var logits = RandomLogits(1000, 3);
        var picks = Enumerable.Range(0, 20)
            .Select(seed => new SeededSampler(new SamplingOptions { Temperature = 0 }, (ulong)seed, seed % 3, 1000).Sample((float[])logits.Clone(), seed, NoCounts, out _))
            .Distinct();
        Assert.Single(picks);
    }

    [Fact]
    public void IdsBeyondTheTokenizer_AreNeverSampled()
    {
        var s = new SeededSampler(new SamplingOptions { Temperature = 0 }, 1, 0, 3);
        Assert.Equal(2, s.Sample(Logits(0, 1, 2, 50, 60), 0, NoCounts, out _));
        var t = new SeededSampler(new SamplingOptions { Temperature = 2 }, 1, 0, 3);
        for (var p = 0; p < 200; p++)
        {
            Assert.InRange(t.Sample(Logits(0, 0, 0, 50, 60), p, NoCounts, out _), 0, 2);
        }
    }

    [Fact]
    public void LogitBias_PlusHundredForces_MinusHundredBans()
    {
        var force = new SeededSampler(new SamplingOptions { Temperature = 1, LogitBias = new Dictionary<int, float> { [7] = 100 } }, 9, 0, 100);
        var ban = new SeededSampler(new SamplingOptions { Temperature = 0, LogitBias = new Dictionary<int, float> { [3] = -100 } }, 9, 0, 100);
        for (var p = 0; p < 50; p++)
        {
            Assert.Equal(7, force.Sample(RandomLogits(100, p), p, NoCounts, out _));
            var l = RandomLogits(100, p);
            l[3] = 10;
            Assert.NotEqual(3, ban.Sample(l, p, NoCounts, out _));
        }
    }

    [Fact]
    public void FrequencyPenalty_SubtractsPerOccurrence()
    {
        var counts = new Dictionary<int, int> { [0] = 3 };
        // Token 0 leads by 1.0; frequency 0.5 × 3 occurrences = 1.5 takes it below token 1.
        var s = new SeededSampler(new SamplingOptions { Temperature = 0, FrequencyPenalty = 0.5f }, 1, 0, 3);
        Assert.Equal(1, s.Sample(Logits(2, 1, 0), 0, counts, out _));
        var weak = new SeededSampler(new SamplingOptions { Temperature = 0, FrequencyPenalty = 0.3f }, 1, 0, 3);
        Assert.Equal(0, weak.Sample(Logits(2, 1, 0), 0, counts, out _));
    }

    [Fact]
    public void PresencePenalty_SubtractsOnce()
    {
        var counts = new Dictionary<int, int> { [0] = 10 };
        var once = new SeededSampler(new SamplingOptions { Temperature = 0, PresencePenalty = 0.7f }, 1, 0, 3);
        Assert.Equal(0, once.Sample(Logits(2, 1.2f, 0), 0, counts, out _));
        var enough = new SeededSampler(new SamplingOptions { Temperature = 0, PresencePenalty = 1.0f }, 1, 0, 3);
        Assert.Equal(1, enough.Sample(Logits(2, 1.2f, 0), 0, counts, out _));
        var negative = new SeededSampler(new SamplingOptions { Temperature = 0, PresencePenalty = -2f }, 1, 0, 3);
        Assert.Equal(2, negative.Sample(Logits(2, 1.2f, 0.5f), 0, new Dictionary<int, int> { [2] = 1 }, out _));
    }

    [Fact]
    public void SameSeed_SameTokens_DifferentSeed_DifferentTokens()
    {
        int[] Run(ulong seed, int choice)
        {
            var s = new SeededSampler(new SamplingOptions { Temperature = 1 }, seed, choice, 500);
            return [.. Enumerable.Range(0, 64).Select(p => s.Sample(RandomLogits(500, p), p, NoCounts, out _))];
        }

        Assert.Equal(Run(123, 0), Run(123, 0));
        Assert.NotEqual(Run(123, 0), Run(124, 0));
        Assert.NotEqual(Run(123, 0), Run(123, 1));
    }

    [Fact]
    public void TopK1_And_TinyTopP_AreGreedy()
    {
        for (var p = 0; p < 30; p++)
        {
            var l = RandomLogits(300, p);
            var greedy = new SeededSampler(new SamplingOptions { Temperature = 0 }, 5, 0, 300).Sample((float[])l.Clone(), p, NoCounts, out _);
            Assert.Equal(greedy, new SeededSampler(new SamplingOptions { Temperature = 1.5f, TopK = 1 }, 5, 0, 300).Sample((float[])l.Clone(), p, NoCounts, out _));
            Assert.Equal(greedy, new SeededSampler(new SamplingOptions { Temperature = 1.5f, TopP = 1e-6f }, 5, 0, 300).Sample((float[])l.Clone(), p, NoCounts, out _));
        }
    }

    [Fact]
    public void TopP0_KeepsTheMostLikelyTokenAlone_AsTemperature0PicksIt()
    {
        for (var p = 0; p < 30; p++)
        {
            var l = RandomLogits(300, p);
            var greedy = new SeededSampler(new SamplingOptions { Temperature = 0 }, 5, 0, 300).Sample((float[])l.Clone(), p, NoCounts, out _);
            for (ulong seed = 1; seed <= 3; seed++)
            {
                Assert.Equal(greedy, new SeededSampler(new SamplingOptions { Temperature = 1.7f, TopP = 0 }, seed, 0, 300).Sample((float[])l.Clone(), p, NoCounts, out _));
            }
        }

        // Ties go to the lowest id, as with temperature 0; the kept token is the whole distribution sampled from.
        var tied = new SeededSampler(new SamplingOptions { Temperature = 1, TopP = 0, Logprobs = true, TopLogprobs = 3 }, 9, 0, 3);
        Assert.Equal(1, tied.Sample(Logits(0, 2, 2), 0, NoCounts, out var logprob));
        Assert.Equal(0f, logprob!.Logprob);
        Assert.Equal(1, Assert.Single(logprob.TopAlternatives).TokenId);
    }

    [Fact]
    public void TopK_LimitsToTheKBest()
    {
        var l = RandomLogits(1000, 11);
        var best = l.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5).Select(x => x.i).ToHashSet();
        var s = new SeededSampler(new SamplingOptions { Temperature = 2, TopK = 5 }, 77, 0, 1000);
        var seen = new HashSet<int>();
        for (var p = 0; p < 400; p++)
        {
            seen.Add(s.Sample((float[])l.Clone(), p, NoCounts, out _));
        }

        Assert.Subset(best, seen);
        Assert.Equal(5, seen.Count);
    }

    [Fact]
    public void TopP_KeepsTheSmallestPrefixHoldingTheMass()
    {
        // Probabilities 0.5, 0.3, 0.2 (logits are their logs): top_p 0.75 keeps the first two (0.8 of the mass).
        var l = Logits(MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f));
        var s = new SeededSampler(new SamplingOptions { Temperature = 1, TopP = 0.75f, Logprobs = true, TopLogprobs = 3 }, 3, 0, 3);
        var seen = new HashSet<int>();
        for (var p = 0; p < 300; p++)
        {
            seen.Add(s.Sample((float[])l.Clone(), p, NoCounts, out var lp));
            Assert.Equal(2, lp!.TopAlternatives.Count);
            Assert.Equal(MathF.Log(0.5f / 0.8f), lp.TopAlternatives[0].Logprob, 4);
        }

        Assert.Equal([0, 1], seen.Order());
    }

    [Fact]
    public void SampledFrequencies_FollowTheDistribution()
    {
        var l = Logits(MathF.Log(0.6f), MathF.Log(0.3f), MathF.Log(0.1f));
        var s = new SeededSampler(new SamplingOptions(), 2024, 0, 3);
        var counts = new int[3];
        for (var p = 0; p < 6000; p++)
        {
            counts[s.Sample((float[])l.Clone(), p, NoCounts, out _)]++;
        }

        Assert.InRange(counts[0], 3400, 3800);
        Assert.InRange(counts[1], 1600, 2000);
        Assert.InRange(counts[2], 450, 750);
    }

    [Theory]
    [InlineData(0f, 1f, 0)]
    [InlineData(1f, 1f, 0)]
    [InlineData(0.7f, 0.9f, 0)]
    [InlineData(1.3f, 1f, 40)]
    public void Logprobs_AreOrdered_SumToAtMostOne_AndIncludeTheSampledToken(float temperature, float topP, int topK)
    {
        var s = new SeededSampler(new SamplingOptions { Temperature = temperature, TopP = topP, TopK = topK, Logprobs = true, TopLogprobs = 20 }, 8, 0, 2000);
        for (var p = 0; p < 40; p++)
        {
            var id = s.Sample(RandomLogits(2000, p), p, NoCounts, out var lp);
            Assert.NotNull(lp);
            Assert.Equal(id, lp.TokenId);
            Assert.True(lp.Logprob <= 0 && float.IsFinite(lp.Logprob));
            Assert.Equal(20, lp.TopAlternatives.Count);
            for (var j = 1; j < lp.TopAlternatives.Count; j++)
            {
                Assert.True(lp.TopAlternatives[j - 1].Logprob >= lp.TopAlternatives[j].Logprob);
            }

            Assert.True(lp.TopAlternatives.Sum(a => Math.Exp(a.Logprob)) <= 1.0 + 1e-5);
            var alt = lp.TopAlternatives.FirstOrDefault(a => a.TokenId == id);
            if (alt != default)
            {
                Assert.Equal(lp.Logprob, alt.Logprob);
            }
        }
    }

    [Fact]
    public void Logprobs_OfAFullDistribution_SumToOne()
    {
        var s = new SeededSampler(new SamplingOptions { Temperature = 1, Logprobs = true, TopLogprobs = 5 }, 8, 0, 5);
        s.Sample(Logits(1, 2, 3, 4, 5), 0, NoCounts, out var lp);
        Assert.Equal(1.0, lp!.TopAlternatives.Sum(a => Math.Exp(a.Logprob)), 5);
    }

    [Fact]
    public void AllBanned_Throws()
    {
        var s = new SeededSampler(new SamplingOptions(), 1, 0, 2);
        Assert.Throws<InvalidOperationException>(() => s.Sample(Logits(float.NegativeInfinity, float.NaN, 1), 0, NoCounts, out _));
    }

    [Theory]
    [InlineData(-0.1f, 1f, 0f)]
    [InlineData(2.1f, 1f, 0f)]
    [InlineData(1f, -0.1f, 0f)]
    [InlineData(1f, 1.1f, 0f)]
    [InlineData(1f, 1f, 2.5f)]
    public void OutOfRangeOptions_AreRefused(float temperature, float topP, float presence)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SeededSampler(new SamplingOptions { Temperature = temperature, TopP = topP, PresencePenalty = presence }, 1, 0, 2));
    }

    public static TheoryData<string> FilteredSettings() =>
        ["greedy", "greedy+logprobs", "topk", "topk+topp", "topk+logprobs", "topp", "full", "full+logprobs"];

    private static SamplingOptions Settings(string name) => name switch
    {
        "greedy" => new() { Temperature = 0 },
        "greedy+logprobs" => new() { Temperature = 0, Logprobs = true, TopLogprobs = 5 },
        "topk" => new() { Temperature = 0.7f, TopK = 20 },
        "topk+topp" => new() { Temperature = 0.7f, TopK = 20, TopP = 0.8f },
        "topk+logprobs" => new() { Temperature = 1.3f, TopK = 8, TopP = 0.95f, Logprobs = true, TopLogprobs = 4, FrequencyPenalty = 0.4f, LogitBias = new Dictionary<int, float> { [5] = 3, [9] = -2 } },
        "topp" => new() { Temperature = 1, TopP = 0.9f },
        "full" => new() { Temperature = 1 },
        "full+logprobs" => new() { Temperature = 0.5f, Logprobs = true, TopLogprobs = 3 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>
    /// The sampled-token fast path must be invisible: for every setting, filtered sampling gives exactly the token and
    /// log-probabilities that masking first and then sampling gives, whatever the allowed set looks like (dense, sparse,
    /// none of the favourites, a single id, ties across the top-k boundary).
    /// </summary>
    [Theory]
    [MemberData(nameof(FilteredSettings))]
    public void Filtered_EqualsMaskFirst_BitForBit(string setting)
    {
        var options = Settings(setting);
        const int width = 3000;
        var shortcuts = 0;
        for (var c = 0; c < 240; c++)
        {
            var rng = new Random(c);
            var logits = new float[width];
            for (var i = 0; i < width; i++)
            {
                // Quarter steps make ties common, so tie-breaking by id is exercised too.
                logits[i] = MathF.Round((float)((rng.NextDouble() * 12) - 6) * 4) / 4;
            }

            var allowed = AllowedSet(c % 5, logits, rng);
            var counts = new Dictionary<int, int> { [rng.Next(width)] = 2, [5] = 1 };
            var seed = (ulong)rng.NextInt64();

            var masked = (float[])logits.Clone();
            new SetFilter(allowed).Apply(masked);
            var expected = new SeededSampler(options, seed, c % 3, width).Sample(masked, c, counts, out var expectedLogprob);

            var filter = new SetFilter(allowed);
            var actual = new SeededSampler(options, seed, c % 3, width).Sample((float[])logits.Clone(), c, counts, filter, out var actualLogprob);

            Assert.Equal(expected, actual);
            AssertSameLogprob(expectedLogprob, actualLogprob);
            shortcuts += filter.Applied == 0 ? 1 : 0;
        }

        // Greedy without logprobs and top-k settle most steps by checking tokens; the others always mask.
        if (setting is "greedy" or "topk" or "topk+topp" or "topk+logprobs")
        {
            Assert.True(shortcuts > 0, "the fast path was never taken");
        }
        else
        {
            Assert.Equal(0, shortcuts);
        }
    }

    [Fact]
    public void Filtered_WhenEverythingIsBanned_Throws()
    {
        var s = new SeededSampler(new SamplingOptions { Temperature = 0.7f, TopK = 20 }, 1, 0, 100);
        Assert.Throws<InvalidOperationException>(() => s.Sample(RandomLogits(100, 1), 0, NoCounts, new SetFilter([]), out _));
    }

    [Fact]
    public void Filtered_WithoutTokenChecks_AlwaysMasks()
    {
        var filter = new SetFilter([.. Enumerable.Range(0, 100)], canCheck: false);
        var s = new SeededSampler(new SamplingOptions { Temperature = 0 }, 1, 0, 100);
        s.Sample(RandomLogits(100, 2), 0, NoCounts, filter, out _);
        Assert.Equal(1, filter.Applied);
        Assert.Equal(0, filter.Checked);
    }

    // 0: dense, 1: sparse, 2: none of the 40 favourites, 3: one id, 4: every other id by rank (ties straddle every cut).
    private static HashSet<int> AllowedSet(int shape, float[] logits, Random rng)
    {
        var width = logits.Length;
        var byRank = Enumerable.Range(0, width).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();
        return shape switch
        {
            0 => [.. Enumerable.Range(0, width).Where(_ => rng.NextDouble() < 0.9)],
            1 => [.. Enumerable.Range(0, width).Where(_ => rng.NextDouble() < 0.02)],
            2 => [.. byRank.Skip(40).Where(_ => rng.NextDouble() < 0.5)],
            3 => [rng.Next(width)],
            _ => [.. byRank.Where((_, r) => r % 2 == 0)],
        };
    }

    private static void AssertSameLogprob(TokenLogprob? expected, TokenLogprob? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }

        Assert.NotNull(actual);
        Assert.Equal(expected.TokenId, actual.TokenId);
        Assert.Equal(BitConverter.SingleToInt32Bits(expected.Logprob), BitConverter.SingleToInt32Bits(actual.Logprob));
        Assert.Equal(expected.TopAlternatives.Select(a => (a.TokenId, BitConverter.SingleToInt32Bits(a.Logprob))), actual.TopAlternatives.Select(a => (a.TokenId, BitConverter.SingleToInt32Bits(a.Logprob))));
    }

    private sealed class SetFilter(HashSet<int> allowed, bool canCheck = true) : ITokenFilter
    {
        public int Applied { get; private set; }

        public int Checked { get; private set; }

        public bool CanCheck => canCheck;

        public bool IsAllowed(int token)
        {
            Checked++;
            return allowed.Contains(token);
        }

        public void Apply(Span<float> logits)
        {
            Applied++;
            for (var i = 0; i < logits.Length; i++)
            {
                if (!allowed.Contains(i))
                {
                    logits[i] = float.NegativeInfinity;
                }
            }
        }
    }
}
