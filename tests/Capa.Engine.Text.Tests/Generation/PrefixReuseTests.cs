using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// Prompts that start like earlier ones reuse their prefilled key/value cache, and the output (text, logprobs, the logits
/// sampled from) is bit for bit what a fresh prefill gives, for every family's test model in fp32 and q4.
/// </summary>
public sealed class PrefixReuseTests(TinyModels models) : IClassFixture<TinyModels>
{
    private const int Chunk = 8;

    public static TheoryData<TestModelArch, ModelVariant> Families()
    {
        var data = new TheoryData<TestModelArch, ModelVariant>();
        foreach (var arch in Enum.GetValues<TestModelArch>())
        {
            data.Add(arch, ModelVariant.Fp32);
            data.Add(arch, ModelVariant.Q4);
        }

        return data;
    }

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant) =>
        OnnxDecoderModel.Load(ModelFolder.Load(models.Get(arch), variant), new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = Chunk });

    private static int[] Tokens(int count, int salt) => [.. Enumerable.Range(0, count).Select(i => ((i * 37) + (salt * 11) + 3) % 200)];

    private static GenerationRequest Request(int[] prompt, long seed) => new()
    {
        PromptTokens = prompt,
        MaxTokens = 6,
        N = 2,
        Seed = seed,
        Sampling = new SamplingOptions { Temperature = 0.8f, Logprobs = true, TopLogprobs = 3 },
    };

    // Text, every logprob's bits and the bits of every logits row sampled from, per choice.
    private static async Task<(string Output, int Cached)> Run(TextGenerationEngine engine, GenerationRequest request)
    {
        var rows = new List<string>();
        var gate = new Lock();
        engine.Observer = (r, choice, position, logits) =>
        {
            if (ReferenceEquals(r, request))
            {
                var h = 2166136261u;
                foreach (var f in logits)
                {
                    h = (h ^ BitConverter.SingleToUInt32Bits(f)) * 16777619u;
                }

                lock (gate)
                {
                    rows.Add($"{choice}:{position}:{h:x8}");
                }
            }
        };

        using var stream = await engine.StartAsync(request);
        var result = await stream.CollectAsync();
        engine.Observer = null;
        var text = string.Join("|", result.Choices.Select(c => c.Text + "/" + string.Join(",", c.Logprobs!.Select(l =>
            BitConverter.SingleToUInt32Bits(l.Logprob) + ":" + string.Join(";", l.TopAlternatives.Select(t => $"{t.TokenId}={BitConverter.SingleToUInt32Bits(t.Logprob)}"))))));
        Assert.Equal(result.CachedPromptTokens, stream.CachedPromptTokens);
        return (text + "#" + string.Join(",", rows.Order(StringComparer.Ordinal)), result.CachedPromptTokens);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ChainOfTurns_ReusesEarlierPrefill_AndGivesTheSameBits(TestModelArch arch, ModelVariant variant)
    {
        using var model = Load(arch, variant);
        using var plain = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], prefixCacheBytes: 0);
        using var cached = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], prefixCacheBytes: 1 << 20);
        Assert.Null(plain.PrefixCache);

        // Each turn's prompt is the previous one plus more: 37, 51, 64 tokens.
        int[] turn1 = Tokens(37, 1);
        int[] turn2 = [.. turn1, .. Tokens(14, 2)];
        int[] turn3 = [.. turn2, .. Tokens(13, 3)];
        var expectedCached = new[] { 0, 32, 48 };
        var turns = new[] { turn1, turn2, turn3 };
        for (var t = 0; t < turns.Length; t++)
        {
            var fresh = await Run(plain, Request(turns[t], 40 + t));
            var reused = await Run(cached, Request(turns[t], 40 + t));
            Assert.Equal(0, fresh.Cached);
            Assert.Equal(expectedCached[t], reused.Cached);
            Assert.Equal(fresh.Output, reused.Output);
        }

        // 64 tokens: the last chunk is computed even though all 8 are held.
        Assert.Equal(56, (await Run(cached, Request(turn3, 7))).Cached);
        Assert.Equal(8 * Chunk * model.KvBytesPerToken, cached.PrefixCache!.BytesHeld);
    }

    [Theory]
    [InlineData(ModelVariant.Fp32)]
    [InlineData(ModelVariant.Q4)]
    public async Task ConcurrentRequests_SharingASystemPrompt_ReuseItAndKeepTheirBits(ModelVariant variant)
    {
        using var model = Load(TestModelArch.Qwen2, variant);
        using var plain = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], prefixCacheBytes: 0);
        using var cached = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], new GenerationSchedulerOptions { MaxConcurrentRequests = 8 }, prefixCacheBytes: 1 << 20);
        var system = Tokens(27, 9);
        var requests = Enumerable.Range(0, 6).Select(i => Request([.. system, .. Tokens(5 + (3 * i), 20 + i)], 70 + i)).ToList();

        var expected = new List<string>();
        foreach (var request in requests)
        {
            var output = (await Run(plain, request)).Output;
            expected.Add(output[..output.IndexOf('#', StringComparison.Ordinal)]);
        }

        // All six at once: the first prefilled warms the cache for the rest (the loop prefills one prompt at a time).
        var runs = requests.Select(r => Task.Run(async () =>
        {
            using var stream = await cached.StartAsync(r);
            var result = await stream.CollectAsync();
            var text = string.Join("|", result.Choices.Select(c => c.Text + "/" + string.Join(",", c.Logprobs!.Select(l =>
                BitConverter.SingleToUInt32Bits(l.Logprob) + ":" + string.Join(";", l.TopAlternatives.Select(t => $"{t.TokenId}={BitConverter.SingleToUInt32Bits(t.Logprob)}"))))));
            return (text, result.CachedPromptTokens);
        })).ToList();
        var results = await Task.WhenAll(runs);

        Assert.Equal(expected, results.Select(r => r.text));
        Assert.All(results, r => Assert.True(r.CachedPromptTokens is 0 or 24, $"cached {r.CachedPromptTokens}"));
        Assert.True(results.Count(r => r.CachedPromptTokens == 24) >= 5, string.Join(",", results.Select(r => r.CachedPromptTokens)));
    }

    [Fact]
    public void SequenceStartedFromCopiedBlocks_ComputesTheSameLogitsAsAFreshPrefill()
    {
        using var model = Load(TestModelArch.Llama, ModelVariant.Fp32);
        var prompt = Tokens(30, 4);
        using var fresh = model.CreateSequence();
        float[] expected = [];
        for (var start = 0; start < prompt.Length; start += Chunk)
        {
            expected = fresh.Forward(prompt.AsSpan(start, Math.Min(Chunk, prompt.Length - start))).ToArray();
        }

        using var source = model.CreateSequence();
        source.Forward(prompt.AsSpan(0, 8));
        source.Forward(prompt.AsSpan(8, 8));
        source.Forward(prompt.AsSpan(16, 8));
        var blocks = new[] { source.CopyKv(0, 8), source.CopyKv(8, 16) };
        Assert.Equal(8 * model.KvBytesPerToken, blocks[0].Bytes);

        using var reused = model.CreateSequence(blocks);
        Assert.Equal(24, reused.Length);
        var logits = reused.Forward(prompt.AsSpan(24)).ToArray();
        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), logits.Select(BitConverter.SingleToUInt32Bits));

        // Copies: the blocks stay valid after their source is gone.
        source.Dispose();
        using var again = model.CreateSequence(blocks);
        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), again.Forward(prompt.AsSpan(24)).ToArray().Select(BitConverter.SingleToUInt32Bits));

        Assert.Throws<ArgumentOutOfRangeException>(() => again.CopyKv(20, 20));
    }
}
