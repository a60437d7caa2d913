namespace Capa.Media.Audio;

/// <summary>
/// Band-limited sample-rate conversion by a Kaiser-windowed sinc, streamed: feed chunks with <see cref="Process"/>
/// and end with <see cref="Flush"/>; the output does not depend on how the input was cut into chunks. The rate ratio
/// is reduced to L/M and the kernel is tabulated for the L phases, so every output sample is one dot product.
/// Deterministic: the same input always gives the same output bits.
/// </summary>
public sealed class Resampler
{
    /// <summary>Zero crossings of the sinc on each side at the narrower of the two rates.</summary>
    private const int ZeroCrossings = 16;

    /// <summary>Cut-off as a share of the lower Nyquist frequency, leaving room for the window's transition band.</summary>
    private const double Rolloff = 0.94;

    /// <summary>Kaiser window shape (stop-band attenuation around 80 dB).</summary>
    private const double KaiserBeta = 8.0;

    private const int MaxTabulatedPhases = 4096;

    private readonly int up;
    private readonly int down;
    private readonly int taps;
    private readonly int halfTaps;
    private readonly double cutoff;
    private readonly float[][]? table;
    private readonly List<float> pending = [];
    private long pendingStart;
    private long inputCount;
    private long outputIndex;

    /// <summary>Creates a converter from <paramref name="inputRate"/> to <paramref name="outputRate"/> samples per second.</summary>
    public Resampler(int inputRate, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputRate);
        InputRate = inputRate;
        OutputRate = outputRate;
        var gcd = Gcd(inputRate, outputRate);
        up = outputRate / gcd;
        down = inputRate / gcd;
        cutoff = Math.Min(1.0, (double)up / down) * Rolloff;
        halfTaps = (int)Math.Ceiling(ZeroCrossings / cutoff);
        taps = 2 * halfTaps;
        if (up <= MaxTabulatedPhases && up != down)
        {
            table = new float[up][];
            for (var phase = 0; phase < up; phase++)
            {
                table[phase] = Kernel(phase);
            }
        }

        // The first outputs look back before the first input: those samples are zeros.
        pendingStart = 0;
    }

    /// <summary>Input samples per second.</summary>
    public int InputRate { get; }

    /// <summary>Output samples per second.</summary>
    public int OutputRate { get; }

    /// <summary>Converts <paramref name="samples"/> in one go.</summary>
    public static float[] Resample(ReadOnlySpan<float> samples, int inputRate, int outputRate)
    {
        var resampler = new Resampler(inputRate, outputRate);
        var output = new List<float>((int)(((long)samples.Length * outputRate / inputRate) + 1));
        resampler.Process(samples, output);
        resampler.Flush(output);
        return [.. output];
    }

    /// <summary>Converts <paramref name="audio"/> to <paramref name="outputRate"/> (the same object when the rate already matches).</summary>
    public static PcmAudio Resample(PcmAudio audio, int outputRate)
    {
        ArgumentNullException.ThrowIfNull(audio);
        return audio.SampleRate == outputRate ? audio : new PcmAudio(outputRate, Resample(audio.Samples, audio.SampleRate, outputRate));
    }

    /// <summary>Adds input and appends every output sample it completes.</summary>
    public void Process(ReadOnlySpan<float> samples, List<float> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (up == down)
        {
            foreach (var s in samples)
            {
                output.Add(s);
            }

            inputCount += samples.Length;
            outputIndex += samples.Length;
            return;
        }

        foreach (var s in samples)
        {
            pending.Add(s);
        }

        inputCount += samples.Length;
        Emit(output, inputCount);
    }

    /// <summary>Ends the stream: appends the outputs that need input past the end (taken as silence).</summary>
    public void Flush(List<float> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (up == down)
        {
            return;
        }

        var total = ((inputCount * up) + down - 1) / down;
        for (var i = 0; i < halfTaps + 1; i++)
        {
            pending.Add(0f);
        }

        Emit(output, total, total);
        pending.Clear();
    }

    private void Emit(List<float> output, long available, long limit = long.MaxValue)
    {
        var end = pendingStart + pending.Count;
        while (outputIndex < limit)
        {
            var position = outputIndex * down;
            var center = position / up;
            var phase = (int)(position % up);
            var first = center - halfTaps + 1;
            var last = first + taps - 1;
            if (last >= end || (limit == long.MaxValue && last >= available))
            {
                break;
            }

            var kernel = table?[phase] ?? Kernel(phase);
            double sum = 0;
            for (var j = 0; j < taps; j++)
            {
                var index = first + j;
                if (index >= pendingStart)
                {
                    sum += kernel[j] * pending[(int)(index - pendingStart)];
                }
            }

            output.Add((float)sum);
            outputIndex++;
        }

        // Drop input no later output can reach.
        var keepFrom = ((outputIndex * down) / up) - halfTaps + 1;
        var drop = (int)Math.Clamp(keepFrom - pendingStart, 0, pending.Count);
        if (drop > 0)
        {
            pending.RemoveRange(0, drop);
            pendingStart += drop;
        }
    }

    private float[] Kernel(int phase)
    {
        var kernel = new double[taps];
        double sum = 0;
        var fraction = (double)phase / up;
        for (var j = 0; j < taps; j++)
        {
            // Distance in input samples from the output instant to tap j.
            var distance = fraction + (halfTaps - 1 - j);
            var x = distance * cutoff;
            var sinc = Math.Abs(x) < 1e-12 ? 1.0 : Math.Sin(Math.PI * x) / (Math.PI * x);
            var ratio = distance / halfTaps;
            var window = Math.Abs(ratio) >= 1 ? 0 : BesselI0(KaiserBeta * Math.Sqrt(1 - (ratio * ratio))) / BesselI0(KaiserBeta);
            kernel[j] = sinc * window;
            sum += kernel[j];
        }

        // Unity gain at DC for every phase, so a constant stays constant.
        var result = new float[taps];
        for (var j = 0; j < taps; j++)
        {
            result[j] = (float)(kernel[j] / sum);
        }

        return result;
    }

    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, half = x / 2;
        for (var k = 1; k < 64; k++)
        {
            term *= half / k;
            var square = term * term;
            sum += square;
            if (square < sum * 1e-17)
            {
                break;
            }
        }

        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
