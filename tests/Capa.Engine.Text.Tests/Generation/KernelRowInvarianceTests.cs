using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>The load-time check of whether a linear kernel gives a row the same bits alone as among other rows.</summary>
public sealed class KernelRowInvarianceTests
{
    private static readonly LinearKernel[] All =
    [
        new LinearKernel("MatMul", 64, 192),
        new LinearKernel("Gemm", 64, 256),
        new LinearKernel("MatMulNBits", 64, 192, Bits: 4, BlockSize: 32, AccuracyLevel: 4),
        new LinearKernel("MatMulNBits", 192, 64, Bits: 4, BlockSize: 32, AccuracyLevel: 4),
        new LinearKernel("MatMulNBits", 64, 256, Bits: 4, BlockSize: 32, AccuracyLevel: 0),
        new LinearKernel("MatMulNBits", 128, 96, Bits: 4, BlockSize: 32, AccuracyLevel: 4, ZeroPoints: true),
        new LinearKernel("MatMul", 64, 96, LinearKernel.Float16),
    ];

    public static TheoryData<int> Kernels => new(Enumerable.Range(0, All.Length));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Verdict_DoesNotDependOnTheNumberOfColumns(int index)
    {
        var kernel = All[index];
        // The cached check computes at most ProbeColumns columns; the kernel's verdict at its real width must agree.
        Assert.True(kernel.N > KernelRowInvariance.ProbeColumns);
        var capped = KernelRowInvariance.Check(kernel, threads: 2);
        Assert.Equal(capped, KernelRowInvariance.Measure(kernel, threads: 2));
        Assert.Equal(capped, KernelRowInvariance.Measure(kernel with { N = 17 }, threads: 2));
        Assert.Equal(capped, KernelRowInvariance.Check(kernel with { N = 1000 }, threads: 2));
    }

    [Fact]
    public void CpuKernelClass_NamesTheArchitectureAndIsAFingerprintInput()
    {
        var value = KernelRowInvariance.CpuKernelClass;
        Assert.Matches("^(x64|arm64):[a-z0-9,]*$|^[a-z0-9]+$", value);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.Contains("avx2", value.Split(':', ',').AsSpan().ToArray());
        }
    }
}
