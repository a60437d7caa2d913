using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// The load-time rewrite that projects only the last position onto the vocabulary: it projects that position once where
/// the head's kernel is row-invariant from one row on the running CPU (<see cref="KernelRowInvariance"/>), and then
/// changes no bit of output; twice where the kernel is invariant only from two rows, and then every row is bitwise what
/// the full projection gives it among two or more rows (and the fingerprint says so).
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

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant, int? accuracy, bool lastOnly, Func<LinearKernel, RowInvariance>? headRowInvariance = null) =>
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
    public void Q4HeadAtAccuracyLevel0_IsNeverProjectedAsOneRow_BecauseItsOneRowKernelDiffers(TestModelArch arch)
    {
        using var forced = Load(arch, ModelVariant.Q4, accuracy: null, lastOnly: true, headRowInvariance: _ => RowInvariance.FromOneRow);
        Assert.Equal("file:0", forced.MatMulNBitsAccuracyLevel);
        Assert.False(forced.ComputesLastLogitsOnly);
        Assert.Equal(0, forced.LogitsHeadRows);

        // With the self-check, only the two-row rewrite may apply at level 0 (where the check finds it invariant from 2 rows).
        using var model = Load(arch, ModelVariant.Q4, accuracy: null, lastOnly: true);
        var verdict = Head(arch, ModelVariant.Q4, accuracy: null).Verdict;
        Assert.Equal(verdict == RowInvariance.FromTwoRows ? 2 : 0, model.LogitsHeadRows);
        Assert.Equal(verdict == RowInvariance.FromTwoRows, model.ComputesLastLogitsOnly);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SeededRequest_WithAndWithoutTheRewrite_GivesTheSameTokensLogprobsAndFingerprintInputs(TestModelArch arch, ModelVariant variant, int? accuracy)
    {
        using var full = Load(arch, variant, accuracy, lastOnly: false);
        using var last = Load(arch, variant, accuracy, lastOnly: true);
        Assert.False(full.ComputesLastLogitsOnly);

        // Rewritten with one row where this CPU computes the head's row alone as among other rows (on AVX-512 VNNI every
        // case here), with two where only among two or more (on AVX2 the 4-bit head at level 4).
        var verdict = Head(arch, variant, accuracy).Verdict;
        var rows = verdict switch { RowInvariance.FromOneRow => 1, RowInvariance.FromTwoRows => 2, _ => 0 };
        Assert.Equal(rows > 0, last.ComputesLastLogitsOnly);
        Assert.Equal(rows, last.LogitsHeadRows);
        Assert.Equal(16, last.PrefillChunkTokens);
        Assert.Equal(full.PrefillChunkTokens, last.PrefillChunkTokens);

        // The two-row head differs from the full graph only where the latter runs a one-row product: that is a fingerprint input.
        var expectedOptions = new SortedDictionary<string, string>(full.NumericsOptions.ToDictionary(), StringComparer.Ordinal);
        if (rows == 2)
        {
            expectedOptions["logits.head_rows"] = "2";
        }

        Assert.Equal(expectedOptions, last.NumericsOptions);

        // 45 prompt tokens: two whole chunks of 16 and a partial one, so the last position of every chunk shape is used.
        // A one-token step alone runs one row in the full graph unless decode pads it to two (DecodeBatchMinRows).
        int[] prompt = [.. Enumerable.Range(0, 45).Select(i => ((i * 53) + 11) % 250)];
        var oneTokenSame = rows == 1 || full.DecodeBatchMinRows == 2;
        using (var a = full.CreateSequence())
        using (var b = last.CreateSequence())
        {
            Assert.Equal(a.Forward(prompt).ToArray(), b.Forward(prompt).ToArray());
            if (oneTokenSame)
            {
                Assert.Equal(a.Forward([7]).ToArray(), b.Forward([7]).ToArray());
            }
        }

        if (oneTokenSame)
        {
            Assert.Equal(await Generate(full), await Generate(last));
        }

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
        using var forced = Load(arch, variant, accuracy, lastOnly: true, headRowInvariance: _ => RowInvariance.FromOneRow);
        Assert.True(forced.ComputesLastLogitsOnly);
        Assert.Equal(1, forced.LogitsHeadRows);
        Assert.Equal(full.NumericsOptions, forced.NumericsOptions);
        var expected = PromptAndNext(full);
        var actual = PromptAndNext(forced);

        // A row of 13 and a row of 1 in the full graph against rows alone in the forced one: bitwise the same if and only
        // if the self-check found the kernel invariant from one row.
        var same = expected.AsSpan().SequenceEqual(actual);
        Assert.True(same == (verdict == RowInvariance.FromOneRow), $"{kernel}: verdict {verdict}, logits {(same ? "equal" : "differ")}.");
        Assert.Equal(expected, actual, (a, b) => MathF.Abs(a - b) <= 1e-4f);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForcedTwoRowHead_GivesTheManyRowKernelsBitsForEveryChunkAndOneTokenStep(TestModelArch arch, ModelVariant variant, int? accuracy)
    {
        var (kernel, verdict) = Head(arch, variant, accuracy);
        using var full = Load(arch, variant, accuracy, lastOnly: false);
        using var two = Load(arch, variant, accuracy, lastOnly: true, headRowInvariance: _ => RowInvariance.FromTwoRows);
        Assert.True(two.ComputesLastLogitsOnly);
        Assert.Equal(2, two.LogitsHeadRows);
        Assert.Equal("2", two.NumericsOptions["logits.head_rows"]);
        Assert.False(full.NumericsOptions.ContainsKey("logits.head_rows"));
        Assert.Equal(16, two.PrefillChunkTokens);

        int[] prompt = [.. Enumerable.Range(0, 45).Select(i => ((i * 53) + 11) % 250)];
        using var a = full.CreateSequence();
        using var b = two.CreateSequence();

        // Chunks of 16, 16 and 13 rows in the full graph, 2 in the rewritten one: the same bits wherever the kernel is
        // row-invariant from two rows.
        var expected = a.Forward(prompt).ToArray();
        var actual = b.Forward(prompt).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        if (verdict != RowInvariance.None)
        {
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{kernel}: verdict {verdict}, prompt logits differ.");
        }

        // One token: the full graph runs its head on one row unless batched decode pads the step to two, the rewritten
        // one always on two; the same bits if and only if both took the many-row path or the kernel does not care.
        var next = a.Forward([7]).ToArray();
        var nextTwo = b.Forward([7]).ToArray();
        var same = next.AsSpan().SequenceEqual(nextTwo);
        if (verdict == RowInvariance.FromOneRow || full.DecodeBatchMinRows == 2)
        {
            Assert.True(same, $"{kernel}: verdict {verdict}, one-token logits differ.");
        }
        else if (verdict == RowInvariance.FromTwoRows)
        {
            Assert.False(same, $"{kernel}: verdict {verdict}, yet the one-row and two-row products agree.");
        }

        Assert.Equal(next, nextTwo, (x, y) => MathF.Abs(x - y) <= 1e-4f);
    }

    [Theory]
    [InlineData(TestModelArch.Qwen2, ModelVariant.Q4, 4)]
    [InlineData(TestModelArch.Gemma, ModelVariant.Q4, 4)]
    [InlineData(TestModelArch.Llama, ModelVariant.Q4, 0)]
    [InlineData(TestModelArch.Phi3, ModelVariant.Fp32, 4)]
    public void ForcedTwoRowHead_PaddedBatchedDecodeAndLoneSteps_AreBitwiseThoseOfTheFullProjection(TestModelArch arch, ModelVariant variant, int accuracy)
    {
        using var full = Load(arch, variant, accuracy, lastOnly: false);
        using var two = Load(arch, variant, accuracy, lastOnly: true, headRowInvariance: _ => RowInvariance.FromTwoRows);
        Assert.True(full.BatchesDecode, full.BatchDecodeNotSupportedReason);
        Assert.True(two.BatchesDecode, two.BatchDecodeNotSupportedReason);
        Assert.Equal(full.DecodeBatchMinRows, two.DecodeBatchMinRows);

        // Three sequences of 1, 9 and 20 prompt tokens (a one-token chunk included), then steps decoded in batches of
        // 3, 1 (padded where the kernels need two rows) and 2.
        int[][] prompts = [[5], [.. Enumerable.Range(0, 9).Select(i => (i * 7) + 2)], [.. Enumerable.Range(0, 20).Select(i => ((i * 29) + 4) % 250)]];
        var fulls = prompts.Select(_ => full.CreateSequence()).ToArray();
        var twos = prompts.Select(_ => two.CreateSequence()).ToArray();
        try
        {
            var verdict = Head(arch, variant, accuracy).Verdict;

            // Whether the full graph's head, run on a step of this many rows, takes the path the rewritten head always takes.
            bool Same(int rowsInFull) => verdict == RowInvariance.FromOneRow
                || (verdict == RowInvariance.FromTwoRows && (rowsInFull >= 2 || full.DecodeBatchMinRows == 2));
            for (var i = 0; i < prompts.Length; i++)
            {
                var expected = fulls[i].Forward(prompts[i]).ToArray();
                var actual = twos[i].Forward(prompts[i]).ToArray();
                if (Same(prompts[i].Length))
                {
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"prompt {i} ({prompts[i].Length} tokens), verdict {verdict}");
                }
            }

            int[][] groups = [[0, 1, 2], [1], [2, 0]];
            for (var step = 0; step < groups.Length; step++)
            {
                var group = groups[step];
                var a = group.Select(i => new DecodeSlot(fulls[i], (i * 11) + step + 1, new float[full.LogitsWidth])).ToArray();
                var b = group.Select(i => new DecodeSlot(twos[i], (i * 11) + step + 1, new float[two.LogitsWidth])).ToArray();
                full.DecodeBatch(a);
                two.DecodeBatch(b);
                for (var k = 0; k < group.Length; k++)
                {
                    if (Same(group.Length))
                    {
                        Assert.True(a[k].Logits.AsSpan().SequenceEqual(b[k].Logits), $"sequence {group[k]} at step {step} in a batch of {group.Length}");
                    }
                }
            }
        }
        finally
        {
            foreach (var sequence in fulls.Concat(twos))
            {
                sequence.Dispose();
            }
        }
    }
}
