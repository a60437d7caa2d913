using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>The load-time rewrite of each layer's attention into com.microsoft.GroupQueryAttention.</summary>
public sealed class GroupQueryAttentionTests(TinyModels models) : IClassFixture<TinyModels>
{
    public static TheoryData<TestModelArch, ModelVariant, int> Cases
    {
        get
        {
            var data = new TheoryData<TestModelArch, ModelVariant, int>();
            foreach (var arch in new[] { TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma })
            {
                foreach (var variant in new[] { ModelVariant.Fp32, ModelVariant.Q4 })
                {
                    foreach (var chunk in new[] { 1, 7, 64 })
                    {
                        data.Add(arch, variant, chunk);
                    }
                }
            }

            return data;
        }
    }

    // q4 runs at accuracy_level 0 here: at level 4 activations are re-quantized to int8 in every layer, so the attention's
    // different rounding can move a value across a quantization step (up to 1e-1 on these random weights) and a
    // tolerance would prove nothing about the attention itself.
    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant, bool gqa, int chunk = 16) =>
        OnnxDecoderModel.Load(
            ModelFolder.Load(models.Get(arch), variant),
            new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = chunk, GroupQueryAttention = gqa, MatMulNBitsAccuracyLevel = 0 });

    [Theory]
    [MemberData(nameof(Cases))]
    public void RewrittenAttention_AgreesWithTheGraphs_OnChunkedPrefillAndDecode(TestModelArch arch, ModelVariant variant, int chunk)
    {
        using var graph = Load(arch, variant, gqa: false, chunk);
        using var gqa = Load(arch, variant, gqa: true, chunk);
        Assert.False(graph.AttentionRewritten);
        Assert.True(gqa.AttentionRewritten, gqa.AttentionNotRewrittenReason);
        Assert.Null(gqa.AttentionNotRewrittenReason);
        Assert.Equal("graph", graph.NumericsOptions["attention"]);
        Assert.Equal("gqa", gqa.NumericsOptions["attention"]);

        // 45 prompt tokens in chunks (S > 1 with a past when chunk < 45), then decode steps, then a second prompt chunk.
        int[] prompt = [.. Enumerable.Range(0, 45).Select(i => ((i * 53) + 11) % 250)];
        using var a = graph.CreateSequence();
        using var b = gqa.CreateSequence();
        AssertClose(a.Forward(prompt), b.Forward(prompt));
        foreach (var token in new[] { 7, 99, 3 })
        {
            AssertClose(a.Forward([token]), b.Forward([token]));
        }

        AssertClose(a.Forward([5, 6, 8, 9]), b.Forward([5, 6, 8, 9]));
        Assert.Equal(a.Length, b.Length);
    }

    [Fact]
    public void ConfigWithASlidingWindowShorterThanTheContext_KeepsTheGraphsAttention()
    {
        // A copy of the qwen2 folder whose config turns a window of 8 positions on.
        var source = models.Get(TestModelArch.Qwen2);
        var dir = Path.Combine(models.Root, "qwen2-window");
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        var configPath = Path.Combine(dir, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["sliding_window"] = 8;
        config["use_sliding_window"] = true;
        File.WriteAllText(configPath, config.ToJsonString());

        using var model = OnnxDecoderModel.Load(ModelFolder.Load(dir, ModelVariant.Fp32), new OnnxDecoderOptions { IntraOpThreads = 2 });
        Assert.False(model.AttentionRewritten);
        Assert.Contains("sliding window of 8", model.AttentionNotRewrittenReason, StringComparison.Ordinal);
        Assert.False(model.BatchesDecode);
    }

    [Fact]
    public void GraphWithoutRecognisedAttention_IsLeftAsIs_AndSaysWhy()
    {
        var result = GroupQueryAttentionRewriter.Rewrite(File.ReadAllBytes(ModelFolder.Load(models.Get(TestModelArch.Qwen2), ModelVariant.Fp32).OnnxPath)
            is var bytes ? Corrupt(bytes) : []);
        Assert.Null(result.Model);
        Assert.Equal(0, result.Layers);
        Assert.False(string.IsNullOrEmpty(result.Reason));

        // Renaming the Softmax ops (same byte length) hides every attention from the rewriter.
        static byte[] Corrupt(byte[] model)
        {
            var copy = model.ToArray();
            var pattern = "Softmax"u8;
            for (var i = copy.AsSpan().IndexOf(pattern); i >= 0;)
            {
                "Softmin"u8.CopyTo(copy.AsSpan(i));
                var next = copy.AsSpan(i + 1).IndexOf(pattern);
                i = next < 0 ? -1 : i + 1 + next;
            }

            return copy;
        }
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var max = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(expected[i] - actual[i]));
        }

        Assert.True(max <= 1e-4f, $"largest difference {max}");
    }
}
