using System.Numerics.Tensors;

namespace Capa.Engine.Whisper.Features;

/// <summary>
/// Whisper's log-mel spectrogram (openai/whisper <c>audio.py</c>): a centred STFT with reflect padding, a periodic
/// 400-point Hann window and hop 160, power spectrum, the last frame dropped, mel filters, log10 of max(x, 1e-10),
/// a floor 8 below the maximum, then (x + 4) / 4.
/// </summary>
public sealed class LogMelSpectrogram
{
    private readonly float[] _filters;

    // The DFT as two [201, 400] matrices with the Hann window folded in: per frame 2 × 201 vectorised dot products
    // of 400, an order of magnitude faster than a scalar mixed-radix FFT of this small, non-power-of-two size.
    private static readonly Lazy<(float[] Cos, float[] Sin)> WindowedDft = new(CreateWindowedDft);

    /// <summary>Creates an extractor with <paramref name="melBins"/> Slaney filters (80, or 128 for large-v3).</summary>
    public LogMelSpectrogram(int melBins)
        : this(melBins, MelFilterBank.Create(melBins))
    {
    }

    /// <summary>Creates an extractor with given filters, row-major [<paramref name="melBins"/>, 201].</summary>
    public LogMelSpectrogram(int melBins, float[] filters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(melBins, 1);
        ArgumentNullException.ThrowIfNull(filters);
        if (filters.Length != melBins * WhisperAudio.FrequencyBins)
        {
            throw new ArgumentException($"Mel filters must hold {melBins} × {WhisperAudio.FrequencyBins} values.", nameof(filters));
        }

        MelBins = melBins;
        _filters = filters;
    }

    /// <summary>Mel bins per frame.</summary>
    public int MelBins { get; }

    /// <summary>
    /// The features of one 30-second window as transformers.js' <c>WhisperFeatureExtractor</c> computes them:
    /// the audio cut or zero-padded to 480,000 samples, 3000 frames, row-major [mel bins, 3000].
    /// </summary>
    public float[] ComputeWindow(ReadOnlySpan<float> samples)
    {
        var padded = new float[WhisperAudio.ChunkSamples];
        samples[..Math.Min(samples.Length, padded.Length)].CopyTo(padded);
        return Compute(padded, 0, out _);
    }

    /// <summary>
    /// The features of the whole audio followed by <paramref name="paddingSamples"/> zeros, as openai/whisper's
    /// <c>log_mel_spectrogram(audio, padding=N_SAMPLES)</c> does before its seek loop: the floor is 8 below the maximum
    /// over all frames. Row-major [mel bins, <paramref name="frames"/>], frames = (samples + padding) / 160.
    /// </summary>
    public float[] Compute(ReadOnlySpan<float> samples, int paddingSamples, out int frames)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(paddingSamples);
        int length = samples.Length + paddingSamples;
        if (length < 2)
        {
            throw new ArgumentException("At least two samples are needed.", nameof(samples));
        }

        int half = WhisperAudio.FftSize / 2;
        // Reflect padding needs more samples than half a window; shorter audio is zero-extended first.
        var signal = new double[Math.Max(length, half + 1) + (2 * half)];
        for (int i = 0; i < samples.Length; i++)
        {
            signal[half + i] = samples[i];
        }

        int n = Math.Max(length, half + 1);
        for (int i = 1; i <= half; i++)
        {
            signal[half - i] = signal[half + i];
            signal[half + n - 1 + i] = signal[half + n - 1 - i];
        }

        // torch.stft gives 1 + length / hop frames; Whisper drops the last.
        frames = length / WhisperAudio.HopLength;
        int bins = WhisperAudio.FrequencyBins;
        int size = WhisperAudio.FftSize;
        var (cos, sin) = WindowedDft.Value;
        var frame = new float[size];
        var power = new float[bins];
        var mel = new float[MelBins * frames];
        for (int t = 0; t < frames; t++)
        {
            int start = t * WhisperAudio.HopLength;
            for (int j = 0; j < size; j++)
            {
                frame[j] = (float)signal[start + j];
            }

            for (int k = 0; k < bins; k++)
            {
                float re = TensorPrimitives.Dot(frame, cos.AsSpan(k * size, size));
                float im = TensorPrimitives.Dot(frame, sin.AsSpan(k * size, size));
                power[k] = (re * re) + (im * im);
            }

            for (int m = 0; m < MelBins; m++)
            {
                mel[(m * frames) + t] = TensorPrimitives.Dot(_filters.AsSpan(m * bins, bins), power);
            }
        }

        float max = float.NegativeInfinity;
        for (int i = 0; i < mel.Length; i++)
        {
            float v = (float)Math.Log10(Math.Max(mel[i], 1e-10f));
            mel[i] = v;
            max = Math.Max(max, v);
        }

        float floor = max - 8f;
        for (int i = 0; i < mel.Length; i++)
        {
            mel[i] = (Math.Max(mel[i], floor) + 4f) / 4f;
        }

        return mel;
    }

    private static (float[] Cos, float[] Sin) CreateWindowedDft()
    {
        int size = WhisperAudio.FftSize, bins = WhisperAudio.FrequencyBins;
        var cos = new float[bins * size];
        var sin = new float[bins * size];
        for (int k = 0; k < bins; k++)
        {
            for (int j = 0; j < size; j++)
            {
                // Periodic Hann, as torch.hann_window(400).
                double window = 0.5 - (0.5 * Math.Cos(2.0 * Math.PI * j / size));
                // k·j mod N keeps the angle small, so the table is exact to float precision.
                double angle = 2.0 * Math.PI * ((long)k * j % size) / size;
                cos[(k * size) + j] = (float)(window * Math.Cos(angle));
                sin[(k * size) + j] = (float)(-window * Math.Sin(angle));
            }
        }

        return (cos, sin);
    }

    /// <summary>
    /// Copies frames [<paramref name="start"/>, start + 3000) of a [mel bins, <paramref name="frames"/>] matrix into a
    /// [mel bins, 3000] window, padding with zeros past the end (whisper's <c>pad_or_trim</c>).
    /// </summary>
    public static void Slice(ReadOnlySpan<float> features, int melBins, int frames, int start, Span<float> window)
    {
        int count = Math.Clamp(frames - start, 0, WhisperAudio.ChunkFrames);
        window.Clear();
        for (int m = 0; m < melBins; m++)
        {
            features.Slice((m * frames) + start, count).CopyTo(window.Slice(m * WhisperAudio.ChunkFrames, count));
        }
    }
}
