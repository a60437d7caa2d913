using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>The generation loop on real ONNX graphs: reproducibility and batch invariance, bit for bit.</summary>
public sealed class OnnxGenerationTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static uint Hash(ReadOnlySpan<float> logits)
    {
        var h = 2166136261u;
        foreach (var f in logits)
        {
            h = (h ^ BitConverter.SingleToUInt32Bits(f)) * 16777619u;
        }

        return h;
    }

    [Theory]
    [InlineData(ModelVariant.Fp32)]
    [InlineData(ModelVariant.Q4)]
    public async Task Request_AloneAndAmidSevenOthers_HasBitwiseIdenticalLogitsAndTokens(ModelVariant variant)
    {
        var folder = ModelFolder.Load(models.Get(TestModelArch.Qwen2), variant);
        using var model = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = 8 });
        using var engine = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], new GenerationSchedulerOptions { MaxConcurrentRequests = 8 });
        var traces = new List<(int Choice, int Position, uint Hash)>[2];
        traces[0] = [];
        traces[1] = [];
        var phase = 0;
        var gate = new Lock();
        var traced = new HashSet<GenerationRequest>(ReferenceEqualityComparer.Instance);
        engine.Observer = (request, choice, position, logits) =>
        {
            bool isTraced;
            lock (gate)
            {
                isTraced = traced.Contains(request);
            }

            if (isTraced)
            {
                var h = Hash(logits);
                lock (gate)
                {
                    traces[phase].Add((choice, position, h));
                }
            }
        };

        GenerationRequest Request(int salt, long seed) => new()
        {
            PromptTokens = [.. Enumerable.Range(0, 20 + salt).Select(i => ((i * 37) + salt) % 200)],
            MaxTokens = 12,
            N = 2,
            Seed = seed,
            Sampling = new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, Logprobs = true, TopLogprobs = 2 },
        };

        async Task<string> Run(GenerationRequest request, bool trace)
        {
            if (trace)
            {
                lock (gate)
                {
                    traced.Add(request);
                }
            }

            using var stream = await engine.StartAsync(request);
            var r = await stream.CollectAsync();
            return string.Join("|", r.Choices.Select(c => c.Text + "/" + string.Join(",", c.Logprobs!.Select(l => BitConverter.SingleToUInt32Bits(l.Logprob)))));
        }

        var alone = await Task.Run(() => Run(Request(0, 31), trace: true));
        phase = 1;
        var crowd = Enumerable.Range(1, 7).Select(i => Task.Run(() => Run(Request(i, 100 + i), trace: false))).ToList();
        var amid = Task.Run(() => Run(Request(0, 31), trace: true));
        await Task.WhenAll([.. crowd, amid]);

        Assert.Equal(alone, await amid);
        Assert.Equal(24, traces[0].Count);
        Assert.Equal(traces[0].Order(), traces[1].Order());
    }
}
