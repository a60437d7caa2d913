namespace Capa.Engine.Whisper.Features;

/// <summary>
/// A decimation-in-time FFT for any length whose prime factors are small (Whisper's 400 = 2⁴·5²), in double
/// precision. One instance holds its twiddle table and scratch buffers, so it is not thread-safe; allocate one
/// per thread.
/// </summary>
internal sealed class MixedRadixFft
{
    private readonly int _n;
    private readonly int[] _factors;
    private readonly double[] _cos;
    private readonly double[] _sin;
    private readonly double[] _re;
    private readonly double[] _im;
    private readonly double[] _tmpRe;
    private readonly double[] _tmpIm;

    public MixedRadixFft(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        _n = n;
        _factors = Factor(n);
        _cos = new double[n];
        _sin = new double[n];
        for (int k = 0; k < n; k++)
        {
            double angle = -2.0 * Math.PI * k / n;
            _cos[k] = Math.Cos(angle);
            _sin[k] = Math.Sin(angle);
        }

        _re = new double[n];
        _im = new double[n];
        int maxFactor = _factors.Length == 0 ? 1 : _factors.Max();
        _tmpRe = new double[maxFactor];
        _tmpIm = new double[maxFactor];
    }

    /// <summary>The transform length.</summary>
    public int Length => _n;

    /// <summary>
    /// Writes |X[k]|² for k = 0 … n/2 of the DFT of the real <paramref name="input"/> (length n) into
    /// <paramref name="power"/>.
    /// </summary>
    public void PowerSpectrum(ReadOnlySpan<double> input, Span<float> power)
    {
        if (input.Length != _n)
        {
            throw new ArgumentException($"The input must hold {_n} samples.", nameof(input));
        }

        Transform(input, 0, 1, _n, 0, 0);
        int bins = _n / 2 + 1;
        for (int k = 0; k < bins; k++)
        {
            power[k] = (float)((_re[k] * _re[k]) + (_im[k] * _im[k]));
        }
    }

    /// <summary>
    /// Transforms the <paramref name="n"/> samples input[offset + j·stride] into _re/_im[outOffset … outOffset + n).
    /// </summary>
    private void Transform(ReadOnlySpan<double> input, int offset, int stride, int n, int factorIndex, int outOffset)
    {
        if (n == 1)
        {
            _re[outOffset] = input[offset];
            _im[outOffset] = 0;
            return;
        }

        int p = _factors[factorIndex];
        int m = n / p;
        for (int r = 0; r < p; r++)
        {
            Transform(input, offset + (r * stride), stride * p, m, factorIndex + 1, outOffset + (r * m));
        }

        // X[k + q·m] = Σ_r W_n^{r·(k + q·m)} · Y_r[k], with W_n^j = W_N^{j·N/n}.
        int twiddleStep = _n / n;
        for (int k = 0; k < m; k++)
        {
            for (int r = 0; r < p; r++)
            {
                _tmpRe[r] = _re[outOffset + (r * m) + k];
                _tmpIm[r] = _im[outOffset + (r * m) + k];
            }

            for (int q = 0; q < p; q++)
            {
                int index = k + (q * m);
                double sumRe = 0, sumIm = 0;
                for (int r = 0; r < p; r++)
                {
                    int t = (int)((long)r * index % n) * twiddleStep;
                    double c = _cos[t], s = _sin[t];
                    sumRe += (_tmpRe[r] * c) - (_tmpIm[r] * s);
                    sumIm += (_tmpRe[r] * s) + (_tmpIm[r] * c);
                }

                _re[outOffset + index] = sumRe;
                _im[outOffset + index] = sumIm;
            }
        }
    }

    private static int[] Factor(int n)
    {
        var factors = new List<int>();
        foreach (int p in new[] { 4, 2, 3, 5 })
        {
            while (n % p == 0 && n > 1)
            {
                factors.Add(p);
                n /= p;
            }
        }

        for (int p = 7; n > 1; p += 2)
        {
            while (n % p == 0)
            {
                factors.Add(p);
                n /= p;
            }
        }

        return [.. factors];
    }
}
