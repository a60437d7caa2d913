using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>The load-time rewrite that projects only the last position onto the vocabulary changes no bit of output.</summary>
public sealed class LastPositionLogitsTests(TinyModels models) : IClassFixture<TinyModels>
{
    public static TheoryData<TestModelArch, ModelVariant, int?> Cases
    {
        get
        {
            var data = new TheoryData<TestModelArch, ModelVariant, int?>();
            foreach (var arch in new[] { TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma })
            {
                data.Add(arch, ModelVariant.Fp32, null);
                data.Add(arch, ModelVariant.Q4, 4);
            }

            return data;
        }
    }

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant, int? accuracy, bool lastOnly) =>
        OnnxDecoderModel.Load(
            ModelFolder.Load(models.Get(arch), variant),
            new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = 16, MatMulNBitsAccuracyLevel = accuracy, ComputeLastLogitsOnly = lastOnly });

    [Theory]
    [InlineData(TestModelArch.Qwen2)]
    [InlineData(TestModelArch.Gemma)]
    public void Q4HeadAtAccuracyLevel0_IsLeftAsIs_BecauseItsOneRowKernelDiffers(TestModelArch arch)
    {
        using var model = Load(arch, ModelVariant.Q4, accuracy: null, lastOnly: true);
        Assert.Equal("file:0", model.MatMulNBitsAccuracyLevel);
        Assert.False(model.ComputesLastLogitsOnly);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SeededRequest_WithAndWithoutTheRewrite_GivesTheSameTokensLogprobsAndFingerprintInputs(TestModelArch arch, ModelVariant variant, int? accuracy)
    {
        using var full = Load(arch, variant, accuracy, lastOnly: false);
        using var last = Load(arch, variant, accuracy, lastOnly: true);
        Assert.False(full.ComputesLastLogitsOnly);
        Assert.True(last.ComputesLastLogitsOnly);
        Assert.Equal(full.PrefillChunkTokens, last.PrefillChunkTokens);
        Assert.Equal(full.NumericsOptions, last.NumericsOptions);

        // 45 prompt tokens: two whole chunks of 16 and a partial one, so the last position of every chunk shape is used.
        int[] prompt = [.. Enumerable.Range(0, 45).Select(i => ((i * 53) + 11) % 250)];
        using (var a = full.CreateSequence())
        using (var b = last.CreateSequence())
        {
            Assert.Equal(a.Forward(prompt).ToArray(), b.Forward(prompt).ToArray());
            Assert.Equal(a.Forward([7]).ToArray(), b.Forward([7]).ToArray());
        }

        Assert.Equal(await Generate(full), await Generate(last));

        async Task<string> Generate(OnnxDecoderModel model)
        {
            using var engine = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), []);
            using var stream = await engine.StartAsync(new GenerationRequest
            {
                PromptTokens = prompt,
                MaxTokens = 10,
                N = 2,
                Seed = 1234,
                Sampling = new SamplingOptions { Temperature = 1.1f, TopP = 0.97f, Logprobs = true, TopLogprobs = 3 },
            });
            var result = await stream.CollectAsync();
            return string.Join("|", result.Choices.Select(c => c.Text + "/" + string.Join(",", c.Logprobs!.Select(l =>
                BitConverter.SingleToUInt32Bits(l.Logprob) + ":" + string.Join(";", l.TopAlternatives.Select(t => t.TokenId + "=" + BitConverter.SingleToUInt32Bits(t.Logprob)))))));
        }
    }
}
