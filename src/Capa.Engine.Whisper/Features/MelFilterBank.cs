namespace Capa.Engine.Whisper.Features;

/// <summary>
/// Slaney-style mel filters as librosa computes them for Whisper (<c>librosa.filters.mel(sr=16000, n_fft=400,
/// n_mels=N)</c>, the matrices openai/whisper ships in <c>mel_filters.npz</c>): triangles in Hz between centres
/// spaced evenly on the Slaney mel scale from 0 to 8 kHz, each scaled by 2 / its bandwidth.
/// </summary>
public static class MelFilterBank
{
    private const double MinLogHertz = 1000.0, MinLogMel = 15.0;
    private static readonly double LogStep = Math.Log(6.4) / 27.0;

    /// <summary>Filters as a row-major [<paramref name="melBins"/>, <see cref="WhisperAudio.FrequencyBins"/>] matrix.</summary>
    public static float[] Create(int melBins, int sampleRate = WhisperAudio.SampleRate, int fftSize = WhisperAudio.FftSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(melBins, 1);
        int bins = fftSize / 2 + 1;
        double maxHz = sampleRate / 2.0;
        var fftFrequencies = new double[bins];
        for (int j = 0; j < bins; j++)
        {
            fftFrequencies[j] = maxHz * j / (bins - 1);
        }

        double melMax = HertzToMel(maxHz);
        var centres = new double[melBins + 2];
        for (int i = 0; i < centres.Length; i++)
        {
            centres[i] = MelToHertz(melMax * i / (melBins + 1));
        }

        var filters = new float[melBins * bins];
        for (int i = 0; i < melBins; i++)
        {
            double lowerWidth = centres[i + 1] - centres[i];
            double upperWidth = centres[i + 2] - centres[i + 1];
            double norm = 2.0 / (centres[i + 2] - centres[i]);
            for (int j = 0; j < bins; j++)
            {
                double lower = (fftFrequencies[j] - centres[i]) / lowerWidth;
                double upper = (centres[i + 2] - fftFrequencies[j]) / upperWidth;
                filters[(i * bins) + j] = (float)(Math.Max(0.0, Math.Min(lower, upper)) * norm);
            }
        }

        return filters;
    }

    /// <summary>Hz to the Slaney mel scale: linear below 1 kHz, logarithmic above.</summary>
    public static double HertzToMel(double hertz) =>
        hertz >= MinLogHertz ? MinLogMel + (Math.Log(hertz / MinLogHertz) / LogStep) : 3.0 * hertz / 200.0;

    /// <summary>The Slaney mel scale back to Hz.</summary>
    public static double MelToHertz(double mel) =>
        mel >= MinLogMel ? MinLogHertz * Math.Exp(LogStep * (mel - MinLogMel)) : 200.0 * mel / 3.0;
}
