using System.Runtime.InteropServices;

namespace Capa.TestModels;

/// <summary>Lays out and quantizes linear-layer weights given in PyTorch's [out, in] order.</summary>
internal static class WeightQuantizer
{
    public const int Q4BlockSize = 32;

    /// <summary>ONNX MatMul's B operand: the transpose, [in, out], as float32 bytes.</summary>
    public static byte[] TransposeToBytes(float[] weight, int n, int k)
    {
        var bytes = new byte[(long)weight.Length * sizeof(float)];
        Span<float> t = MemoryMarshal.Cast<byte, float>(bytes.AsSpan());
        for (int row = 0; row < n; row++)
        {
            int src = row * k;
            for (int col = 0; col < k; col++)
            {
                t[col * n + row] = weight[src + col];
            }
        }

        return bytes;
    }

    /// <summary>
    /// MatMulNBits (bits 4, block 32, symmetric, no zero points so the runtime's default of 8 applies):
    /// packed [N, K/32, 16] bytes, low nibble first, and one float scale per block ([N * K/32]).
    /// </summary>
    public static (byte[] Packed, float[] Scales) QuantizeQ4(float[] weight, int n, int k)
    {
        if (k % Q4BlockSize != 0)
        {
            throw new ArgumentException($"K ({k}) must be a multiple of {Q4BlockSize}.", nameof(k));
        }

        int blocks = k / Q4BlockSize;
        var packed = new byte[(long)n * blocks * (Q4BlockSize / 2)];
        var scales = new float[n * blocks];
        Span<int> q = stackalloc int[Q4BlockSize];
        for (int row = 0; row < n; row++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int start = row * k + b * Q4BlockSize;
                float absMax = 0f;
                for (int i = 0; i < Q4BlockSize; i++)
                {
                    absMax = MathF.Max(absMax, MathF.Abs(weight[start + i]));
                }

                float scale = absMax > 0f ? absMax / 7f : 1f;
                scales[row * blocks + b] = scale;
                for (int i = 0; i < Q4BlockSize; i++)
                {
                    q[i] = Math.Clamp((int)MathF.Round(weight[start + i] / scale, MidpointRounding.ToEven) + 8, 0, 15);
                }

                long dst = ((long)row * blocks + b) * (Q4BlockSize / 2);
                for (int i = 0; i < Q4BlockSize; i += 2)
                {
                    packed[dst + i / 2] = (byte)(q[i] | (q[i + 1] << 4));
                }
            }
        }

        return (packed, scales);
    }

    /// <summary>
    /// Symmetric per-output-channel int8 for MatMulInteger: B as [K, N] int8 and one float scale per column.
    /// </summary>
    public static (byte[] Quantized, float[] Scales) QuantizeInt8(float[] weight, int n, int k)
    {
        var scales = new float[n];
        var quantized = new byte[(long)n * k];
        for (int row = 0; row < n; row++)
        {
            float absMax = 0f;
            for (int col = 0; col < k; col++)
            {
                absMax = MathF.Max(absMax, MathF.Abs(weight[row * k + col]));
            }

            float scale = absMax > 0f ? absMax / 127f : 1f;
            scales[row] = scale;
            for (int col = 0; col < k; col++)
            {
                int v = Math.Clamp((int)MathF.Round(weight[row * k + col] / scale, MidpointRounding.ToEven), -127, 127);
                quantized[(long)col * n + row] = unchecked((byte)(sbyte)v);
            }
        }

        return (quantized, scales);
    }
}
