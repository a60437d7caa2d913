using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// The load-time rewrite that projects only the last position onto the vocabulary changes no bit of output: it is applied
/// exactly where the head's kernel is row-invariant on the running CPU (<see cref="KernelRowInvariance"/>), and where it
/// is applied the outputs are bitwise those of the full projection.
/// </summary>
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

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant, int? accuracy, bool lastOnly, Func<LinearKernel, bool>? headRowInvariance = null) =>
        OnnxDecoderModel.Load(
            ModelFolder.Load(models.Get(arch), variant),
            new OnnxDecoderOptions
            {
                IntraOpThreads = 2,
                PrefillChunkTokens = 16,
                MatMulNBitsAccuracyLevel = accuracy,
                ComputeLastLogitsOnly = lastOnly,
                HeadRowInvariance = headRowInvariance,
            });

    // The head's kernel as the rewriter sees it once the accuracy level is set, and the self-check's verdict on it.
    private (LinearKernel Kernel, RowInvariance Verdict) Head(TestModelArch arch, ModelVariant variant, int? accuracy)
    {
        var bytes = File.ReadAllBytes(ModelFolder.Load(models.Get(arch), variant).OnnxPath);
        if (accuracy is { } level)
        {
            bytes = MatMulNBitsRewriter.Rewrite(bytes, level).Model;
        }

        LinearKernel? head = null;
        LastPositionLogitsRewriter.Rewrite(bytes, kernel =>
        {
            head = kernel;
            return false;
        });
        Assert.NotNull(head);
        return (head.Value, KernelRowInvariance.Check(head.Value, threads: 2));
    }

    // The logits of a 45-token prompt fed in chunks of 16 (the last chunk has 13 rows), then of one more token.
    private static float[] PromptAndNext(OnnxDecoderModel model)
    {
        int[] prompt = [.. Enumerable.Range(0, 45).Select(i => ((i * 53) + 11) % 250)];
        using var sequence = model.CreateSequence();
        return [.. sequence.Forward(prompt).ToArray(), .. sequence.Forward([7]).ToArray()];
    }

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

        // Rewritten exactly where this CPU computes the head's row alone as among other rows (on AVX-512 VNNI every case
        // here; on AVX2 the 4-bit head at level 4 is not, and is left as is). Either way the outputs below must agree.
        Assert.Equal(Head(arch, variant, accuracy).Verdict == RowInvariance.FromOneRow, last.ComputesLastLogitsOnly);
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

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForcedRewrite_ChangesTheLogitsExactlyWhenTheSelfCheckSaysTheHeadIsNotRowInvariant(TestModelArch arch, ModelVariant variant, int? accuracy)
    {
        var (kernel, verdict) = Head(arch, variant, accuracy);
        using var full = Load(arch, variant, accuracy, lastOnly: false);
        using var forced = Load(arch, variant, accuracy, lastOnly: true, headRowInvariance: _ => true);
        Assert.True(forced.ComputesLastLogitsOnly);
        var expected = PromptAndNext(full);
        var actual = PromptAndNext(forced);

        // A row of 13 and a row of 1 in the full graph against rows alone in the forced one: bitwise the same if and only
        // if the self-check found the kernel invariant from one row.
        var same = expected.AsSpan().SequenceEqual(actual);
        Assert.True(same == (verdict == RowInvariance.FromOneRow), $"{kernel}: verdict {verdict}, logits {(same ? "equal" : "differ")}.");
        Assert.Equal(expected, actual, (a, b) => MathF.Abs(a - b) <= 1e-4f);
    }
}
