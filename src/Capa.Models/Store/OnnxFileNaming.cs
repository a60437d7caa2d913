namespace Capa.Models.Store;

/// <summary>
/// The ONNX file naming of onnx-community and Xenova repositories (transformers.js): <c>{base}.onnx</c> is fp32,
/// <c>{base}_fp16.onnx</c>, <c>{base}_int8.onnx</c> (older repos: <c>{base}_quantized.onnx</c>), <c>{base}_q4.onnx</c>,
/// and the variants Capa does not run: <c>_q4f16</c>, <c>_bnb4</c>, <c>_uint8</c>. <c>{base}</c> is <c>model</c>, or a part
/// of a multi-part model (<c>encoder_model</c>, <c>decoder_model_merged</c>, <c>vision_encoder</c>, <c>embed_tokens</c>, ...).
/// </summary>
internal static class OnnxFileNaming
{
    /// <summary>Suffixes in the order they must be tested (<c>_q4f16</c> before anything that could end the same way).</summary>
    private static readonly (string Suffix, string Name)[] Suffixes =
    [
        ("_q4f16", "q4f16"),
        ("_bnb4", "bnb4"),
        ("_uint8", "uint8"),
        ("_quantized", "quantized"),
        ("_int8", "int8"),
        ("_fp16", "fp16"),
        ("_q4", "q4"),
    ];

    /// <summary>
    /// Splits an ONNX file path (<c>onnx/decoder_model_merged_q4.onnx</c>) into its part (<c>onnx/decoder_model_merged</c>)
    /// and its variant name (<c>q4</c>; <c>fp32</c> when there is no suffix). False when the path is not an <c>.onnx</c> file.
    /// </summary>
    public static bool TryParse(string path, out string part, out string variantName)
    {
        part = string.Empty;
        variantName = string.Empty;
        if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var stem = path[..^".onnx".Length];
        var slash = stem.LastIndexOf('/');
        var fileStem = stem[(slash + 1)..];
        foreach (var (suffix, name) in Suffixes)
        {
            if (fileStem.Length > suffix.Length && fileStem.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                part = stem[..^suffix.Length];
                variantName = name;
                return true;
            }
        }

        part = stem;
        variantName = "fp32";
        return fileStem.Length > 0;
    }

    /// <summary>The variant Capa runs for a variant name, or <see langword="null"/> for one it does not (q4f16, bnb4, uint8).</summary>
    public static ModelVariant? ToVariant(string variantName) => variantName switch
    {
        "fp32" => ModelVariant.Fp32,
        "fp16" => ModelVariant.Fp16,
        "int8" or "quantized" => ModelVariant.Int8,
        "q4" => ModelVariant.Q4,
        _ => null,
    };

    /// <summary>
    /// Whether <paramref name="path"/> is external data of the ONNX file <paramref name="onnxPath"/>:
    /// <c>{onnx}_data</c>, <c>{onnx}_data_N</c>, <c>{onnx}.data</c> or <c>{onnx}.data_N</c>.
    /// </summary>
    public static bool IsExternalDataOf(string path, string onnxPath)
    {
        if (path.Length <= onnxPath.Length || !path.StartsWith(onnxPath, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path.AsSpan(onnxPath.Length);
        if (!rest.StartsWith("_data", StringComparison.Ordinal) && !rest.StartsWith(".data", StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest["_data".Length..];
        if (rest.IsEmpty)
        {
            return true;
        }

        if (rest[0] != '_' || rest.Length == 1)
        {
            return false;
        }

        foreach (var c in rest[1..])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
