using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Capa.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Text.Generation;

/// <summary>How far a linear kernel's rows are independent of the other rows of the same product.</summary>
internal enum RowInvariance
{
    /// <summary>A row's bits depend on how many rows are computed with it, even from 2 rows on.</summary>
    None,

    /// <summary>A row alone (M = 1) takes another kernel, but from M = 2 on a row's bits do not depend on M or on the other rows.</summary>
    FromTwoRows,

    /// <summary>A row's bits are the same for every M, alone included.</summary>
    FromOneRow,
}

/// <summary>
/// One linear kernel of a decoder graph, as ONNX Runtime picks its implementation: the operator, the reduction width
/// <see cref="K"/>, the output width <see cref="N"/>, the activations' element type and, for <c>MatMulNBits</c>, its
/// quantisation attributes. <c>Gemm</c> stands for a <c>Gemm</c> with <c>transB</c> = 1 (a tied head reading the
/// [vocabulary, hidden] embedding).
/// </summary>
internal readonly record struct LinearKernel(string Op, int K, int N, int ElementType = 1, int Bits = 0, int BlockSize = 0, int AccuracyLevel = 0, bool ZeroPoints = false)
{
    /// <summary>TensorProto data type of fp32.</summary>
    public const int Float = 1;

    /// <summary>TensorProto data type of fp16.</summary>
    public const int Float16 = 10;

    /// <summary>A short description for logs and reasons.</summary>
    public override string ToString() => Op == "MatMulNBits"
        ? string.Create(CultureInfo.InvariantCulture, $"MatMulNBits {K}x{N} bits={Bits} block={BlockSize} accuracy_level={AccuracyLevel}{(ZeroPoints ? " zero_points" : "")}{(ElementType == Float16 ? " fp16" : "")}")
        : string.Create(CultureInfo.InvariantCulture, $"{Op} {K}x{N}{(ElementType == Float16 ? " fp16" : " fp32")}");
}

/// <summary>
/// Checks, on the running CPU and ONNX Runtime build, whether a linear kernel gives a row the same bits whatever the
/// number of rows computed with it. ONNX Runtime's CPU kernels (MLAS) are chosen by instruction set: on AVX-512 VNNI a
/// <c>MatMulNBits</c> row at <c>accuracy_level</c> 4 comes out the same alone as among other rows, on AVX2 a row alone
/// takes another path and differs in the last bits (measured with <c>capa-bench --batch-probe</c>). Whatever relies on
/// row invariance (the last-position logits rewrite, batched decode) asks here instead of assuming.
/// </summary>
/// <remarks>
/// The check builds a one-node graph of the kernel (random weights of the real K, attributes and element type; N capped
/// at <see cref="ProbeColumns"/>, since the kernel is chosen per row and K, not per column count — a test checks two
/// widths agree), runs 16 random rows alone, in pairs and in products of 3, 4, 5, 8 and 16 rows, and compares bits.
/// It costs a few milliseconds and is cached per process by kernel and thread count.
/// </remarks>
internal static class KernelRowInvariance
{
    /// <summary>Most output columns the check computes.</summary>
    public const int ProbeColumns = 48;

    private const int Rows = 16;
    private static readonly int[] Widths = [3, 4, 5, 8, 16];
    private static readonly ConcurrentDictionary<(LinearKernel Kernel, int Threads), RowInvariance> Cache = new();

    /// <summary>
    /// The instruction-set features ONNX Runtime's CPU kernels dispatch on, read from the processor itself (CPUID on x64,
    /// so that a runtime switch that hides AVX-512 from .NET does not hide it here), e.g.
    /// <c>x64:avx2,fma,avx512f,avx512bw,avx512vnni</c>. Results can differ between two values of this string, so it is a
    /// fingerprint input.
    /// </summary>
    public static string CpuKernelClass { get; } = ComputeCpuKernelClass();

    /// <summary>The verdict for <paramref name="kernel"/> run with <paramref name="threads"/> intra-op threads.</summary>
    public static RowInvariance Check(LinearKernel kernel, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel.K, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel.N, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var key = kernel with { N = Math.Min(kernel.N, ProbeColumns) };
        return Cache.GetOrAdd((key, threads), static k => Measure(k.Kernel, k.Threads));
    }

    /// <summary>Measures without the cache (tests compare widths with it).</summary>
    internal static RowInvariance Measure(LinearKernel kernel, int threads)
    {
        var model = Build(kernel);
        using var options = new SessionOptions
        {
            // As OnnxDecoderModel creates its sessions: the same kernels, the same threading.
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        using var session = new InferenceSession(model, options);
        using var runOptions = new RunOptions();
        int k = kernel.K, n = kernel.N;
        var x = Values(Rows * k, 101 + k);
        var alone = new uint[Rows][];
        for (var r = 0; r < Rows; r++)
        {
            alone[r] = Run(session, runOptions, kernel.ElementType, x.AsSpan(r * k, k), 1, k, n);
        }

        // Rows 2i and 2i + 1 computed as a pair.
        var paired = new uint[Rows][];
        for (var r = 0; r < Rows; r += 2)
        {
            var y = Run(session, runOptions, kernel.ElementType, x.AsSpan(r * k, 2 * k), 2, k, n);
            paired[r] = y[..n];
            paired[r + 1] = y[n..];
        }

        var fromOne = true;
        var fromTwo = true;
        for (var r = 0; r < Rows; r++)
        {
            fromOne &= alone[r].AsSpan().SequenceEqual(paired[r]);
        }

        foreach (var m in Widths)
        {
            var y = Run(session, runOptions, kernel.ElementType, x.AsSpan(0, m * k), m, k, n);
            for (var r = 0; r < m; r++)
            {
                var row = y.AsSpan(r * n, n);
                fromOne &= row.SequenceEqual(alone[r]);
                fromTwo &= row.SequenceEqual(paired[r]);
            }
        }

        return fromOne ? RowInvariance.FromOneRow : fromTwo ? RowInvariance.FromTwoRows : RowInvariance.None;
    }

    // The output's bits, as fp32 or fp16 patterns widened to uint.
    private static uint[] Run(InferenceSession session, RunOptions runOptions, int elementType, ReadOnlySpan<float> x, int m, int k, int n)
    {
        using var input = elementType == LinearKernel.Float16
            ? OrtValue.CreateTensorValueFromMemory(x.ToArray().Select(v => (Float16)v).ToArray(), [m, k])
            : OrtValue.CreateTensorValueFromMemory(x.ToArray(), [m, k]);
        using var outputs = session.Run(runOptions, ["x"], [input], ["y"]);
        var result = new uint[m * n];
        if (elementType == LinearKernel.Float16)
        {
            var y = MemoryMarshal.Cast<Float16, ushort>(outputs[0].GetTensorDataAsSpan<Float16>());
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = y[i];
            }
        }
        else
        {
            MemoryMarshal.Cast<float, uint>(outputs[0].GetTensorDataAsSpan<float>()).CopyTo(result);
        }

        return result;
    }

    private static byte[] Build(LinearKernel kernel)
    {
        int k = kernel.K, n = kernel.N;
        var type = (OnnxDataType)kernel.ElementType;
        var g = new OnnxGraphBuilder();
        var x = g.Input("x", type, "m", k);
        string y;
        switch (kernel.Op)
        {
            case "MatMul":
                y = g.Op("MatMul", [x, g.Initializer("w", type, [k, n], () => Bytes(Values(k * n, 7), kernel.ElementType))]);
                break;
            case "Gemm":
                y = g.Op("Gemm", [x, g.Initializer("w", type, [n, k], () => Bytes(Values(k * n, 7), kernel.ElementType))], OnnxAttribute.Int("transB", 1));
                break;
            case "MatMulNBits":
                {
                    var blocks = (k + kernel.BlockSize - 1) / kernel.BlockSize;
                    var blob = kernel.BlockSize * kernel.Bits / 8;
                    var packed = new byte[n * blocks * blob];
                    new Random(11 + k).NextBytes(packed);
                    var scales = Values(n * blocks, 13).Select(s => 0.002f + (MathF.Abs(s) * 0.02f)).ToArray();
                    List<string> inputs =
                    [
                        x,
                        g.Initializer("w_q", OnnxDataType.UInt8, [n, blocks, blob], () => packed),
                        g.Initializer("w_scales", type, [n * blocks], () => Bytes(scales, kernel.ElementType)),
                    ];
                    if (kernel.ZeroPoints)
                    {
                        var zeroPoints = new byte[n * (((blocks * kernel.Bits) + 7) / 8)];
                        new Random(17 + k).NextBytes(zeroPoints);
                        inputs.Add(g.Initializer("w_zero_points", OnnxDataType.UInt8, [zeroPoints.Length], () => zeroPoints));
                    }

                    y = g.OpIn("com.microsoft", "MatMulNBits", [.. inputs], 1,
                        OnnxAttribute.Int("K", k), OnnxAttribute.Int("N", n), OnnxAttribute.Int("bits", kernel.Bits),
                        OnnxAttribute.Int("block_size", kernel.BlockSize), OnnxAttribute.Int("accuracy_level", kernel.AccuracyLevel))[0];
                    break;
                }

            default:
                throw new ArgumentException($"No row-invariance check for {kernel.Op}.", nameof(kernel));
        }

        g.Output(y, "y", type, "m", n);
        return OnnxModelWriter.ToBytes(g.Build("row_invariance"));
    }

    private static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static byte[] Bytes(float[] values, int elementType) => elementType == LinearKernel.Float16
        ? MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray()
        : MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static string ComputeCpuKernelClass()
    {
        var features = new List<string>();
        if (X86Base.IsSupported)
        {
            var (_, _, ecx1, _) = X86Base.CpuId(1, 0);
            var (_, ebx7, ecx7, edx7) = X86Base.CpuId(7, 0);
            var (eax71, _, _, _) = X86Base.CpuId(7, 1);
            void Bit(bool set, string name)
            {
                if (set)
                {
                    features.Add(name);
                }
            }

            Bit((ebx7 & (1 << 5)) != 0, "avx2");
            Bit((ecx1 & (1 << 12)) != 0, "fma");
            Bit((eax71 & (1 << 4)) != 0, "avxvnni");
            Bit((ebx7 & (1 << 16)) != 0, "avx512f");
            Bit((ebx7 & (1 << 30)) != 0, "avx512bw");
            Bit((ecx7 & (1 << 11)) != 0, "avx512vnni");
            Bit((eax71 & (1 << 5)) != 0, "avx512bf16");
            Bit((edx7 & (1 << 23)) != 0, "avx512fp16");
            Bit((edx7 & (1 << 25)) != 0, "amxint8");
            return "x64:" + string.Join(",", features);
        }

        if (AdvSimd.IsSupported)
        {
            features.Add("asimd");
            if (Dp.IsSupported)
            {
                features.Add("dotprod");
            }

            return "arm64:" + string.Join(",", features);
        }

        return RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
    }
}
