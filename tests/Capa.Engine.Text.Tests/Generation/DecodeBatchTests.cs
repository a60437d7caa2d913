using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// OnnxDecoderModel.DecodeBatch: sequences of different lengths decoded in one forward each get bitwise the logits they
/// get alone, whatever the batch and however it changes between steps.
/// </summary>
public sealed class DecodeBatchTests(TinyModels models) : IClassFixture<TinyModels>
{
    private const int Sequences = 16;
    private const int Steps = 3;

    private static readonly TestModelArch[] Archs = [TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma];

    /// <summary>Each family in fp32, and in q4 at the default accuracy_level 4 and at 0.</summary>
    public static TheoryData<TestModelArch, ModelVariant, int> Cases
    {
        get
        {
            var data = new TheoryData<TestModelArch, ModelVariant, int>();
            foreach (var arch in Archs)
            {
                data.Add(arch, ModelVariant.Fp32, 4);
                data.Add(arch, ModelVariant.Q4, 4);
                data.Add(arch, ModelVariant.Q4, 0);
            }

            return data;
        }
    }

    /// <summary>
    /// As <see cref="Cases"/> without q4 at accuracy_level 4: there, activations are re-quantized to int8 in every layer,
    /// so any change of rounding in the attention (even with no batching: a prefill alone differs by up to 1e-1 between
    /// the two attentions on these random-weight models) can move a value across a quantization step.
    /// </summary>
    public static TheoryData<TestModelArch, ModelVariant, int> SmoothCases
    {
        get
        {
            var data = new TheoryData<TestModelArch, ModelVariant, int>();
            foreach (var arch in Archs)
            {
                data.Add(arch, ModelVariant.Fp32, 4);
                data.Add(arch, ModelVariant.Q4, 0);
            }

            return data;
        }
    }

    // The batch compositions of each step (indices of sequences, in the order given): all 16 at once, then groups of
    // 1, 2, 3, 4 and 6 in a shuffled order, then 11 and 5 in reverse order.
    private static readonly int[][][] Schedule =
    [
        [[.. Enumerable.Range(0, Sequences)]],
        [[9], [3, 14], [0, 7, 12], [15, 1, 10, 4], [2, 5, 6, 8, 11, 13]],
        [[.. Enumerable.Range(5, 11).Reverse()], [4, 3, 2, 1, 0]],
    ];

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant, int accuracy = 4, bool gqa = true) =>
        OnnxDecoderModel.Load(
            ModelFolder.Load(models.Get(arch), variant),
            new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = 16, GroupQueryAttention = gqa, MatMulNBitsAccuracyLevel = accuracy });

    private static int[] Prompt(int i) => [.. Enumerable.Range(0, 2 + (i * 5)).Select(j => ((j * 31) + (i * 17) + 3) % 250)];

    private static int Token(int i, int step) => ((i * 13) + (step * 7) + 1) % 250;

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeBatch_GivesEachSequenceBitwiseItsLogitsAlone_WithTheBatchChangingBetweenSteps(TestModelArch arch, ModelVariant variant, int accuracy)
    {
        using var model = Load(arch, variant, accuracy);
        Assert.True(model.BatchesDecode, model.BatchDecodeNotSupportedReason);
        Assert.Null(model.BatchDecodeNotSupportedReason);
        Assert.InRange(model.DecodeBatchMinRows, 1, 2);

        var batched = new IDecoderSequence[Sequences];
        var alone = new float[Sequences][][];
        try
        {
            for (var i = 0; i < Sequences; i++)
            {
                batched[i] = model.CreateSequence();
                batched[i].Forward(Prompt(i));
                using var single = batched[i].Fork();
                alone[i] = new float[Steps][];
                for (var step = 0; step < Steps; step++)
                {
                    alone[i][step] = single.Forward([Token(i, step)]).ToArray();
                }
            }

            for (var step = 0; step < Steps; step++)
            {
                foreach (var group in Schedule[step])
                {
                    var slots = group.Select(i => new DecodeSlot(batched[i], Token(i, step), new float[model.LogitsWidth])).ToArray();
                    model.DecodeBatch(slots);
                    for (var k = 0; k < group.Length; k++)
                    {
                        var i = group[k];
                        Assert.True(alone[i][step].AsSpan().SequenceEqual(slots[k].Logits), $"sequence {i} (past {Prompt(i).Length + step}) at step {step} in a batch of {group.Length}");
                        Assert.Equal(Prompt(i).Length + step + 1, batched[i].Length);
                    }
                }
            }
        }
        finally
        {
            foreach (var sequence in batched)
            {
                sequence?.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(SmoothCases))]
    public void DecodeBatch_AgreesWithTheGraphsOwnAttentionDecodedOneByOne(TestModelArch arch, ModelVariant variant, int accuracy)
    {
        using var model = Load(arch, variant, accuracy);
        using var graph = Load(arch, variant, accuracy, gqa: false);
        Assert.True(model.BatchesDecode, model.BatchDecodeNotSupportedReason);
        Assert.False(graph.BatchesDecode);
        int[] picked = [0, 5, 11];
        var batched = picked.Select(i => model.CreateSequence()).ToArray();
        var reference = picked.Select(i => graph.CreateSequence()).ToArray();
        try
        {
            for (var k = 0; k < picked.Length; k++)
            {
                batched[k].Forward(Prompt(picked[k]));
                reference[k].Forward(Prompt(picked[k]));
            }

            for (var step = 0; step < Steps; step++)
            {
                var slots = picked.Select((i, k) => new DecodeSlot(batched[k], Token(i, step), new float[model.LogitsWidth])).ToArray();
                model.DecodeBatch(slots);
                for (var k = 0; k < picked.Length; k++)
                {
                    var expected = reference[k].Forward([Token(picked[k], step)]).ToArray();
                    var max = expected.Zip(slots[k].Logits, (a, b) => MathF.Abs(a - b)).Max();
                    Assert.True(max <= 1e-4f, $"sequence {picked[k]} step {step}: largest difference {max}");
                }
            }
        }
        finally
        {
            foreach (var sequence in batched.Concat(reference))
            {
                sequence.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(ModelVariant.Fp32, 4)]
    [InlineData(ModelVariant.Q4, 0)]
    public void OneTokenPrompt_GoesThroughTheBatchedStepFromAnEmptyCache_AndAgreesWithTheGraph(ModelVariant variant, int accuracy)
    {
        using var model = Load(TestModelArch.Llama, variant, accuracy);
        using var graph = Load(TestModelArch.Llama, variant, accuracy, gqa: false);
        Assert.True(model.BatchesDecode, model.BatchDecodeNotSupportedReason);
        using var a = model.CreateSequence();
        using var b = graph.CreateSequence();
        using var c = model.CreateSequence();
        using var longer = model.CreateSequence();
        longer.Forward(Prompt(4));
        foreach (var token in new[] { 5, 17, 200 })
        {
            var expected = b.Forward([token]).ToArray();
            var actual = a.Forward([token]).ToArray();
            Assert.True(expected.Zip(actual, (x, y) => MathF.Abs(x - y)).Max() <= 1e-4f);

            // The same token fed in a batch beside a longer sequence gives bitwise the same logits.
            var slots = new[] { new DecodeSlot(longer, 9, new float[model.LogitsWidth]), new DecodeSlot(c, token, new float[model.LogitsWidth]) };
            model.DecodeBatch(slots);
            Assert.Equal(actual, slots[1].Logits);
        }

        Assert.Equal(3, a.Length);
    }

    [Fact]
    public void ModelsThatCannotBatch_SayWhy_AndDecodeOneSequenceAtATime()
    {
        using var graph = Load(TestModelArch.Qwen2, ModelVariant.Fp32, gqa: false);
        Assert.False(graph.BatchesDecode);
        Assert.Equal(0, graph.DecodeBatchMinRows);
        Assert.Contains("GroupQueryAttention", graph.BatchDecodeNotSupportedReason, StringComparison.Ordinal);
        Assert.Equal("0", graph.NumericsOptions["decode.min_rows"]);

        var dir = Path.Combine(models.Root, "int8");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Int8], Seed = 7 }, dir);
        using var int8 = OnnxDecoderModel.Load(ModelFolder.Load(dir, ModelVariant.Int8), new OnnxDecoderOptions { IntraOpThreads = 2 });
        Assert.True(int8.AttentionRewritten, int8.AttentionNotRewrittenReason);
        Assert.False(int8.BatchesDecode);
        Assert.Contains("DynamicQuantizeLinear", int8.BatchDecodeNotSupportedReason, StringComparison.Ordinal);

        // The fallback feeds each slot alone, as Forward does.
        using var a = int8.CreateSequence();
        using var b = int8.CreateSequence();
        a.Forward(Prompt(3));
        b.Forward(Prompt(3));
        var slot = new DecodeSlot(a, 42, new float[int8.LogitsWidth]);
        int8.DecodeBatch([slot]);
        Assert.Equal(b.Forward([42]).ToArray(), slot.Logits);
    }

    [Fact]
    public void VisionDecoder_FedEmbeddings_KeepsItsAttention_AndSaysWhyItDoesNotBatch()
    {
        var dir = Path.Combine(models.Root, "qwen2vl");
        Capa.TestModels.Vision.Qwen2VlTestModelWriter.Write(7, dir);
        // The decoder's shapes are fixed in the graph; the config fills in only what the graph leaves open.
        var config = new Capa.Models.Config.ModelConfig { ModelType = "qwen2", Family = Capa.Models.Config.ModelFamily.Qwen2, VocabSize = 0, MaxContextLength = 256 };
        using var embedder = OnnxTokenEmbedder.Load(Path.Combine(dir, "onnx", "embed_tokens.onnx"), null, 2);
        using var model = OnnxDecoderModel.Load(Path.Combine(dir, "onnx", "decoder_model_merged.onnx"), config, new OnnxDecoderOptions { IntraOpThreads = 2 }, embedder);
        Assert.True(model.TakesEmbeddings);
        Assert.False(model.AttentionRewritten);
        Assert.Equal("graph", model.NumericsOptions["attention"]);
        Assert.False(model.BatchesDecode);
        Assert.Contains("inputs_embeds", model.BatchDecodeNotSupportedReason, StringComparison.Ordinal);
    }
}
