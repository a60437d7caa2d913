using Capa.TestModels;

namespace Capa.TestModels.Tests;

/// <summary>The generated graphs run in ONNX Runtime with the real export's names and shapes, and their KV cache is exact.</summary>
[Collection(TestModelCollection.Name)]
public sealed class TestModelRuntimeTests(TestModelFolders folders)
{
    private static readonly long[] Prompt = [11, 305, 27, 1900, 64, 2200, 9, 512];

    [Theory]
    [MemberData(nameof(TestModelFolders.ArchsAndQuants), MemberType = typeof(TestModelFolders))]
    public void Runs_prefill_and_a_decode_step_with_the_export_shapes(TestModelArch arch, TestModelQuant quant)
    {
        using var decoder = new OrtDecoder(folders.OnnxPath(arch, quant));
        Assert.Equal(2, decoder.Layers);
        Assert.Equal(2, decoder.KvHeads);
        Assert.Equal(16, decoder.HeadDim);
        Assert.Equal(
            ["attention_mask", "input_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value", "position_ids"],
            decoder.Session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            ["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"],
            decoder.Session.OutputMetadata.Keys.Order(StringComparer.Ordinal));

        // Forward asserts logits [batch, seq, vocab] and present [batch, kv_heads, past + seq, head_dim].
        var (prefill, cache) = decoder.Forward([Prompt], [Ones(Prompt.Length)], [Range(0, Prompt.Length)], decoder.EmptyCache(1));
        Assert.Equal(Prompt.Length, cache.Length);
        var (step, grown) = decoder.Forward([[OrtDecoder.ArgMax(prefill[0][^1])]], [Ones(Prompt.Length + 1)], [[Prompt.Length]], cache);
        Assert.Equal(Prompt.Length + 1, grown.Length);
        Assert.Single(step[0]);
        Assert.All(step[0][0], v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [MemberData(nameof(TestModelFolders.Archs), MemberType = typeof(TestModelFolders))]
    public void Incremental_decoding_with_the_kv_cache_matches_a_full_recompute(TestModelArch arch)
    {
        using var decoder = new OrtDecoder(folders.OnnxPath(arch, TestModelQuant.Fp32));
        long[] sequence = [.. Prompt, 77, 1500, 3, 260, 999];
        var (full, _) = decoder.Forward([sequence], [Ones(sequence.Length)], [Range(0, sequence.Length)], decoder.EmptyCache(1));

        // Chunked prefill (5 + 3 tokens), then one token per step, each step feeding present back as past.
        var incremental = new List<float[]>();
        KvCache cache = decoder.EmptyCache(1);
        int at = 0;
        foreach (int chunk in new[] { 5, 3, 1, 1, 1, 1, 1 })
        {
            long[] ids = sequence[at..(at + chunk)];
            (float[][][] logits, cache) = decoder.Forward([ids], [Ones(at + chunk)], [Range(at, chunk)], cache);
            incremental.AddRange(logits[0]);
            at += chunk;
        }

        Assert.Equal(sequence.Length, at);
        for (int i = 0; i < sequence.Length; i++)
        {
            AssertClose(full[0][i], incremental[i], 1e-4f, $"{arch} position {i}");
        }

        // The logits vary along the sequence, so a cache that ignored the past would be caught.
        Assert.True(MaxAbsDiff(full[0][^1], full[0][^2]) > 0.1f);
    }

    [Theory]
    [MemberData(nameof(TestModelFolders.Archs), MemberType = typeof(TestModelFolders))]
    public void Left_padding_in_a_batch_does_not_change_a_rows_logits(TestModelArch arch)
    {
        using var decoder = new OrtDecoder(folders.OnnxPath(arch, TestModelQuant.Fp32));
        long[] shortRow = Prompt[..5];
        var (alone, aloneCache) = decoder.Forward([shortRow], [Ones(5)], [Range(0, 5)], decoder.EmptyCache(1));

        // Row 1 is padded on the left by 3 tokens; masked positions carry position id 1 as transformers.js sets them.
        long[][] ids = [Prompt, [0, 0, 0, .. shortRow]];
        long[][] mask = [Ones(8), [0, 0, 0, 1, 1, 1, 1, 1]];
        long[][] positions = [Range(0, 8), [1, 1, 1, 0, 1, 2, 3, 4]];
        var (batched, cache) = decoder.Forward(ids, mask, positions, decoder.EmptyCache(2));
        for (int i = 0; i < 5; i++)
        {
            AssertClose(alone[0][i], batched[1][3 + i], 1e-4f, $"{arch} padded row position {i}");
        }

        // And one decode step for both rows afterwards.
        var (stepAlone, _) = decoder.Forward([[42]], [Ones(6)], [[5]], aloneCache);
        var (stepBatched, _) = decoder.Forward([[42], [42]], [Ones(9), [0, 0, 0, 1, 1, 1, 1, 1, 1]], [[8], [5]], cache);
        AssertClose(stepAlone[0][0], stepBatched[1][0], 1e-4f, $"{arch} padded row decode step");
    }

    [Theory]
    [MemberData(nameof(TestModelFolders.Archs), MemberType = typeof(TestModelFolders))]
    public void Quantized_logits_stay_close_to_fp32(TestModelArch arch)
    {
        float[] reference = LastLogits(folders.OnnxPath(arch, TestModelQuant.Fp32));
        float spread = Std(reference);
        foreach (var (quant, tolerance) in new[] { (TestModelQuant.Int8, Int8Tolerance), (TestModelQuant.Q4, 0.5f) })
        {
            float[] quantized = LastLogits(folders.OnnxPath(arch, quant));
            float meanError = reference.Zip(quantized, (a, b) => MathF.Abs(a - b)).Average();
            Assert.True(meanError < tolerance * spread, $"{arch} {quant}: mean |error| {meanError} vs logit std {spread}");
            Assert.True(meanError > 0f, $"{arch} {quant} gives exactly the fp32 logits: is it really quantized?");
        }
    }

    // MatMulInteger with uint8 activations and int8 weights (the dynamic int8 exports' layout) runs on VPDPBUSD where
    // the CPU has VNNI; without it ONNX Runtime pairs products with VPMADDUBSW, whose int16 sums saturate for
    // full-range weights: the mean error measured 0.19-0.22 of the logit spread on an AVX2-only CPU (qwen2, llama,
    // gemma), under 0.15 on AVX-512 VNNI.
    private static float Int8Tolerance => HasVnni() ? 0.15f : 0.3f;

    private static bool HasVnni()
    {
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            return true;
        }

        try
        {
            return File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Contains("vnni", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private float[] LastLogits(string path)
    {
        using var decoder = new OrtDecoder(path);
        return decoder.Forward([Prompt], [Ones(Prompt.Length)], [Range(0, Prompt.Length)], decoder.EmptyCache(1)).Logits[0][^1];
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        float diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= tolerance, $"{what}: max |difference| {diff} > {tolerance}");
    }

    private static float MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();

    private static float Std(float[] values)
    {
        float mean = values.Average();
        return MathF.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
    }

    private static long[] Ones(int n) => [.. Enumerable.Repeat(1L, n)];

    private static long[] Range(int start, int count) => [.. Enumerable.Range(start, count).Select(i => (long)i)];
}
