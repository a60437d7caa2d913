namespace Capa.TestModels;

/// <summary>The decoder architectures <see cref="TestModelWriter"/> can generate.</summary>
public enum TestModelArch
{
    /// <summary>Qwen2 / Qwen2.5: q/k/v biases, tied embeddings, ChatML template.</summary>
    Qwen2,

    /// <summary>Llama 3.x: plain projections, Llama-3 special tokens and template.</summary>
    Llama,

    /// <summary>Phi-3 / Phi-3.5: fused <c>qkv_proj</c> and <c>gate_up_proj</c>.</summary>
    Phi3,

    /// <summary>Gemma 2: (1 + w) norms, sqrt(hidden) embedding scale, GeLU-tanh MLP, pre/post norms, soft-capping.</summary>
    Gemma,
}

/// <summary>Model sizes.</summary>
public enum TestModelSize
{
    /// <summary>A few MB, for tests: 2 layers, hidden 64, 4 heads, 2 KV heads, head_dim 16.</summary>
    Tiny,

    /// <summary>Qwen2.5-0.5B's shapes (24 layers, hidden 896, 14 heads, 2 KV heads, intermediate 4864, vocab 151,936), for benchmarks.</summary>
    HalfB,
}

/// <summary>Weight formats, written as onnx-community names them.</summary>
public enum TestModelQuant
{
    /// <summary><c>onnx/model.onnx</c>: float32 weights.</summary>
    Fp32,

    /// <summary><c>onnx/model_int8.onnx</c>: dynamic int8 quantization (DynamicQuantizeLinear + MatMulInteger).</summary>
    Int8,

    /// <summary><c>onnx/model_q4.onnx</c>: 4-bit blocks of 32 (com.microsoft MatMulNBits).</summary>
    Q4,
}

/// <summary>What <see cref="TestModelWriter.Write"/> generates. The same spec always yields the same bytes.</summary>
public sealed record TestModelSpec
{
    /// <summary>The architecture family.</summary>
    public TestModelArch Arch { get; init; } = TestModelArch.Qwen2;

    /// <summary>The size.</summary>
    public TestModelSize Size { get; init; } = TestModelSize.Tiny;

    /// <summary>The weight formats to write; each is its own ONNX file under <c>onnx/</c>.</summary>
    public IReadOnlyList<TestModelQuant> Quants { get; init; } = [TestModelQuant.Fp32];

    /// <summary>Seed of the weights' pseudo-random generator.</summary>
    public ulong Seed { get; init; }

    /// <summary>Parses an architecture name as the CLI accepts it (<c>qwen2</c>, <c>llama</c>, <c>phi3</c>, <c>gemma</c>).</summary>
    public static TestModelArch ParseArch(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "qwen2" or "qwen2.5" or "qwen" => TestModelArch.Qwen2,
        "llama" or "llama3" => TestModelArch.Llama,
        "phi3" or "phi3.5" or "phi" => TestModelArch.Phi3,
        "gemma" or "gemma2" => TestModelArch.Gemma,
        _ => throw new ArgumentException($"Unknown architecture '{value}'. Expected qwen2, llama, phi3 or gemma.", nameof(value)),
    };

    /// <summary>Parses a size name (<c>tiny</c>, <c>0.5b</c>).</summary>
    public static TestModelSize ParseSize(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "tiny" => TestModelSize.Tiny,
        "0.5b" or "500m" => TestModelSize.HalfB,
        _ => throw new ArgumentException($"Unknown size '{value}'. Expected tiny or 0.5b.", nameof(value)),
    };

    /// <summary>Parses a weight format name (<c>fp32</c>, <c>int8</c>, <c>q4</c>).</summary>
    public static TestModelQuant ParseQuant(string value) => value?.Trim().ToLowerInvariant() switch
    {
        "fp32" => TestModelQuant.Fp32,
        "int8" => TestModelQuant.Int8,
        "q4" => TestModelQuant.Q4,
        _ => throw new ArgumentException($"Unknown quantization '{value}'. Expected fp32, int8 or q4.", nameof(value)),
    };

    /// <summary>The ONNX file name of a weight format, as transformers.js looks it up (<c>model.onnx</c>, <c>model_int8.onnx</c>, <c>model_q4.onnx</c>).</summary>
    public static string OnnxFileName(TestModelQuant quant) => quant switch
    {
        TestModelQuant.Fp32 => "model.onnx",
        TestModelQuant.Int8 => "model_int8.onnx",
        TestModelQuant.Q4 => "model_q4.onnx",
        _ => throw new ArgumentOutOfRangeException(nameof(quant)),
    };
}
