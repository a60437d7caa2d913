using System.Runtime.CompilerServices;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based generator.
/// Each output block is a pure function of (key, counter), so a stream can be addressed at any position without a
/// shared, stateful generator: the engine keys it by (seed) and counts by (token position, choice index).
/// </summary>
public static class Philox4x32
{
    private const uint M0 = 0xD2511F53;
    private const uint M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9;
    private const uint W1 = 0xBB67AE85;

    /// <summary>Computes one 128-bit block for a 128-bit counter and 64-bit key.</summary>
    public static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (var round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }

            var p0 = (ulong)M0 * c0;
            var p1 = (ulong)M1 * c2;
            var hi0 = (uint)(p0 >> 32);
            var lo0 = (uint)p0;
            var hi1 = (uint)(p1 >> 32);
            var lo1 = (uint)p1;
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
        }

        return (c0, c1, c2, c3);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits, addressed by (seed, stream, position).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Uniform(ulong seed, uint stream, ulong position)
    {
        var (x0, x1, _, _) = Block((uint)position, (uint)(position >> 32), stream, 0, (uint)seed, (uint)(seed >> 32));
        var bits = (((ulong)x0 << 32) | x1) >> 11;
        return bits * (1.0 / (1UL << 53));
    }
}
