namespace Capa.Media.Audio;

/// <summary>Mono audio as float samples in [-1, 1] at a sample rate.</summary>
public sealed class PcmAudio
{
    /// <summary>Creates audio; the array is kept, not copied.</summary>
    public PcmAudio(int sampleRate, float[] samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentNullException.ThrowIfNull(samples);
        SampleRate = sampleRate;
        Samples = samples;
    }

    /// <summary>Samples per second.</summary>
    public int SampleRate { get; }

    /// <summary>The samples.</summary>
    public float[] Samples { get; }

    /// <summary>The duration.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Samples.Length / SampleRate);

    /// <summary>Root mean square of the samples (0 for silence or no samples).</summary>
    public double Rms()
    {
        if (Samples.Length == 0)
        {
            return 0;
        }

        double sum = 0;
        foreach (var s in Samples)
        {
            sum += (double)s * s;
        }

        return Math.Sqrt(sum / Samples.Length);
    }
}
