using System.Runtime.InteropServices;
using System.Text;

namespace Capa.TestModels;

/// <summary>
/// Deterministic weights: every tensor has its own SplitMix64 stream keyed by (seed, tensor name), so values
/// do not depend on the order tensors are generated in. Only integer and float arithmetic, no transcendental
/// functions, so the same arguments give the same bits on every platform.
/// </summary>
internal static class WeightGenerator
{
    /// <summary>
    /// Approximately normal values of mean <paramref name="mean"/> and standard deviation <paramref name="std"/>:
    /// the sum of four 16-bit uniforms (Irwin–Hall), which is smooth enough for random weights.
    /// </summary>
    public static float[] Normal(ulong seed, string name, long count, float mean, float std)
    {
        var values = new float[count];
        Fill(seed, name, values, mean, std);
        return values;
    }

    /// <summary>Like <see cref="Normal"/>, as the little-endian float32 bytes an initializer stores (no second copy).</summary>
    public static byte[] NormalBytes(ulong seed, string name, long count, float mean, float std)
    {
        var bytes = new byte[checked(count * sizeof(float))];
        Fill(seed, name, MemoryMarshal.Cast<byte, float>(bytes.AsSpan()), mean, std);
        return bytes;
    }

    private static void Fill(ulong seed, string name, Span<float> values, float mean, float std)
    {
        ulong state = seed * 0x9E3779B97F4A7C15UL ^ Fnv1a(name);
        // Sum of four U(0,1) has mean 2 and variance 1/3; sqrt(3) rescales it to unit variance.
        const float ToUnit = 1.7320508f / 65536f;
        for (int i = 0; i < values.Length; i++)
        {
            ulong r = Next(ref state);
            uint sum = (uint)(r & 0xFFFF) + (uint)((r >> 16) & 0xFFFF) + (uint)((r >> 32) & 0xFFFF) + (uint)(r >> 48);
            float unit = ((float)sum - 131070f) * ToUnit;
            values[i] = mean + std * unit;
        }
    }

    private static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string name)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }
}
