using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class OnnxDecoderModelTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static readonly int[] Tokens = [5, 17, 99, 3, 250, 41, 7, 7, 123, 64, 12, 300, 2, 88];

    public static TheoryData<TestModelArch> Archs => [TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma];

    private OnnxDecoderModel Load(TestModelArch arch, ModelVariant variant = ModelVariant.Fp32, OnnxDecoderOptions? options = null) =>
        OnnxDecoderModel.Load(ModelFolder.Load(models.Get(arch), variant), options ?? new OnnxDecoderOptions { IntraOpThreads = 1 });

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        Assert.True(worst <= tolerance, $"max |difference| {worst} > {tolerance}");
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void IncrementalDecoding_MatchesFullRecompute(TestModelArch arch)
    {
        using var model = Load(arch);
        using var incremental = model.CreateSequence();
        incremental.Forward(Tokens.AsSpan(0, 4));
        for (var t = 4; t < Tokens.Length; t++)
        {
            var step = incremental.Forward(Tokens.AsSpan(t, 1)).ToArray();
            using var full = model.CreateSequence();
            AssertClose(full.Forward(Tokens.AsSpan(0, t + 1)), step, 1e-4f);
            Assert.Equal(t + 1, incremental.Length);
        }
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public void ChunkedPrefill_MatchesOneShotPrefill(TestModelArch arch)
    {
        using var oneShot = Load(arch);
        using var chunked = Load(arch, options: new OnnxDecoderOptions { IntraOpThreads = 1, PrefillChunkTokens = 3 });
        Assert.Equal(3, chunked.PrefillChunkTokens);
        using var a = oneShot.CreateSequence();
        using var b = chunked.CreateSequence();
        AssertClose(a.Forward(Tokens), b.Forward(Tokens), 1e-4f);
    }

    [Fact]
    public void GraphShapes_AreDiscoveredFromTheSession()
    {
        var folder = ModelFolder.Load(models.Get(TestModelArch.Qwen2), ModelVariant.Fp32);
        using var model = OnnxDecoderModel.Load(folder);
        Assert.Equal(folder.Config.NumHiddenLayers, model.LayerCount);
        Assert.Equal(folder.Config.NumKeyValueHeads, model.KvHeads);
        Assert.Equal(folder.Config.HeadDim, model.HeadDim);
        Assert.Equal(folder.Config.VocabSize, model.LogitsWidth);
        Assert.Equal(folder.Config.MaxContextLength, model.MaxContextLength);
    }

    [Fact]
    public void Fork_ContinuesIndependently()
    {
        using var model = Load(TestModelArch.Llama);
        using var a = model.CreateSequence();
        a.Forward(Tokens.AsSpan(0, 6));
        using var b = a.Fork();
        var fromA = a.Forward(Tokens.AsSpan(6, 2)).ToArray();
        var fromB = b.Forward(Tokens.AsSpan(6, 2)).ToArray();
        Assert.Equal(fromA, fromB);
        Assert.Equal(8, b.Length);
        b.Forward([1]);
        Assert.Equal(8, a.Length);
    }

    [Fact]
    public void Q4Variant_Runs_AndStaysNearFp32()
    {
        using var fp32 = Load(TestModelArch.Qwen2);
        using var q4 = Load(TestModelArch.Qwen2, ModelVariant.Q4);
        using var a = fp32.CreateSequence();
        using var b = q4.CreateSequence();
        var x = a.Forward(Tokens).ToArray();
        var y = b.Forward(Tokens).ToArray();
        Assert.Equal(x.Length, y.Length);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        Assert.NotEqual(x, y);
    }

    [Fact]
    public void DisposedSequence_Refuses()
    {
        using var model = Load(TestModelArch.Qwen2);
        var s = model.CreateSequence();
        s.Forward([1, 2]);
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Forward([3]).Length);
    }

    [Fact]
    public void MatMulNBitsAccuracyLevel_IsRewrittenInMemory_Visibly_AndChangesNumbersOnlySlightly()
    {
        var folder = ModelFolder.Load(models.Get(TestModelArch.Qwen2), ModelVariant.Q4);
        var before = File.ReadAllBytes(folder.OnnxPath);
        using var asFile = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = 1, MatMulNBitsAccuracyLevel = null });
        using var level4 = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = 1, MatMulNBitsAccuracyLevel = 4 });
        Assert.Equal("file:0", asFile.MatMulNBitsAccuracyLevel);
        Assert.Equal("4 (file: 0)", level4.MatMulNBitsAccuracyLevel);
        Assert.Equal("4 (file: 0)", level4.NumericsOptions["ep.matmulnbits_accuracy_level"]);
        Assert.NotEqual(asFile.NumericsOptions["ep.matmulnbits_accuracy_level"], level4.NumericsOptions["ep.matmulnbits_accuracy_level"]);
        Assert.Equal(KernelRowInvariance.CpuKernelClass, level4.NumericsOptions["cpu.kernels"]);
        Assert.Equal(before, File.ReadAllBytes(folder.OnnxPath));

        using var a = asFile.CreateSequence();
        using var b = level4.CreateSequence();
        var x = a.Forward(Tokens).ToArray();
        var y = b.Forward(Tokens).ToArray();
        AssertClose(x, y, 0.5f);

        using var fp32 = Load(TestModelArch.Qwen2);
        Assert.Null(fp32.MatMulNBitsAccuracyLevel);
    }
}
