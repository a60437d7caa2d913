namespace Capa.Models;

/// <summary>Which of a folder's ONNX files to run, as published by onnx-community and Xenova.</summary>
public enum ModelVariant
{
    /// <summary><c>onnx/model.onnx</c>: fp32 weights.</summary>
    Fp32,

    /// <summary><c>onnx/model_fp16.onnx</c>: fp16 weights and activations.</summary>
    Fp16,

    /// <summary><c>onnx/model_int8.onnx</c> (or <c>model_quantized.onnx</c>): 8-bit weights.</summary>
    Int8,

    /// <summary><c>onnx/model_q4.onnx</c>: 4-bit block-quantized weights (MatMulNBits).</summary>
    Q4,
}

/// <summary>File names and parsing of <see cref="ModelVariant"/>.</summary>
public static class ModelVariants
{
    /// <summary>The order tried when no variant is asked for: the fastest on a CPU first.</summary>
    public static IReadOnlyList<ModelVariant> CpuPreference { get; } = [ModelVariant.Q4, ModelVariant.Int8, ModelVariant.Fp32, ModelVariant.Fp16];

    /// <summary>The file stems (under <c>onnx/</c>) that hold a variant, in order of preference.</summary>
    public static IReadOnlyList<string> FileStems(this ModelVariant variant) => variant switch
    {
        ModelVariant.Fp32 => ["model"],
        ModelVariant.Fp16 => ["model_fp16"],
        ModelVariant.Int8 => ["model_int8", "model_quantized"],
        ModelVariant.Q4 => ["model_q4"],
        _ => throw new ArgumentOutOfRangeException(nameof(variant)),
    };

    /// <summary>The lower-case name (fp32, fp16, int8, q4).</summary>
    public static string Name(this ModelVariant variant) => variant.ToString().ToLowerInvariant();

    /// <summary>Parses fp32 / fp16 / int8 / q4 (case-insensitive); <see langword="null"/> for anything else.</summary>
    public static ModelVariant? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "fp32" => ModelVariant.Fp32,
        "fp16" => ModelVariant.Fp16,
        "int8" or "quantized" => ModelVariant.Int8,
        "q4" => ModelVariant.Q4,
        _ => null,
    };
}
