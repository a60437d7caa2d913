namespace Capa.Engine.Images.Noise;

/// <summary>
/// PyTorch's CPU generator: mt19937 seeded as <c>torch.manual_seed(seed)</c>, with <c>torch.randn</c>'s sampling, so a
/// seed gives the same initial latents here as in diffusers on the CPU. Tensors of 16 or more values use torch's
/// <c>normal_fill</c> (uniforms from 24 bits, Box–Muller over pairs 8 apart in blocks of 16, the tail block redrawn);
/// smaller ones draw doubles from 53 bits one value at a time with the cached second sample, as <c>normal_distribution</c>.
/// torch's vectorised log, sin and cos (Sleef) may round the last bit differently from .NET's: values agree to float
/// precision, and are always bit-identical here for a given seed.
/// </summary>
public sealed class TorchGenerator
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _state = new uint[N];
    private int _index;
    private double? _nextDoubleNormal;

    /// <summary>A generator in the state <c>torch.manual_seed(seed)</c> leaves it.</summary>
    public TorchGenerator(ulong seed)
    {
        _state[0] = (uint)(seed & 0xFFFFFFFF);
        for (int j = 1; j < N; j++)
        {
            _state[j] = unchecked((1812433253u * (_state[j - 1] ^ (_state[j - 1] >> 30))) + (uint)j);
        }

        _index = N;
    }

    /// <summary>The next 32 bits of mt19937.</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            Twist();
        }

        uint y = _state[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>Fills <paramref name="values"/> as <c>torch.randn(values.Length)</c> (float32) would.</summary>
    public void FillNormal(Span<float> values)
    {
        int size = values.Length;
        if (size >= 16)
        {
            for (int i = 0; i < size; i++)
            {
                values[i] = UniformFloat();
            }

            for (int i = 0; i < size - 15; i += 16)
            {
                Normal16(values.Slice(i, 16));
            }

            if (size % 16 != 0)
            {
                // torch recomputes the last 16 values from fresh uniforms.
                Span<float> tail = values[(size - 16)..];
                for (int i = 0; i < 16; i++)
                {
                    tail[i] = UniformFloat();
                }

                Normal16(tail);
            }

            return;
        }

        for (int i = 0; i < size; i++)
        {
            values[i] = (float)NextDoubleNormal();
        }
    }

    /// <summary>A new array of <paramref name="count"/> standard normal values.</summary>
    public float[] Randn(int count)
    {
        var values = new float[count];
        FillNormal(values);
        return values;
    }

    private float UniformFloat() => (NextUInt32() & 0xFFFFFF) * (1.0f / (1 << 24));

    private double UniformDouble()
    {
        ulong hi = NextUInt32();
        ulong lo = NextUInt32();
        ulong bits = ((hi << 32) | lo) & ((1UL << 53) - 1);
        return bits * (1.0 / (1UL << 53));
    }

    private double NextDoubleNormal()
    {
        if (_nextDoubleNormal is { } cached)
        {
            _nextDoubleNormal = null;
            return cached;
        }

        double u1 = UniformDouble();
        double u2 = UniformDouble();
        double r = Math.Sqrt(-2 * Math.Log(1 - u2));
        double theta = 2 * Math.PI * u1;
        _nextDoubleNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }

    private const float TwoPi = (float)(2.0 * Math.PI);

    private static void Normal16(Span<float> data)
    {
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1 - data[j];
            float u2 = data[j + 8];
            float radius = MathF.Sqrt(-2 * MathF.Log(u1));
            // torch's AVX2 kernel (what x86 builds run) multiplies in float by 2π rounded to float.
            float theta = TwoPi * u2;
            data[j] = radius * MathF.Cos(theta);
            data[j + 8] = radius * MathF.Sin(theta);
        }
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_state[i] & 0x80000000u) | (_state[(i + 1) % N] & 0x7FFFFFFFu);
            uint next = _state[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0)
            {
                next ^= 0x9908B0DFu;
            }

            _state[i] = next;
        }

        _index = 0;
    }
}
