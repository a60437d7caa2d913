namespace Capa.Engine.Whisper.Tests;

/// <summary>Deterministic test signals at 16 kHz.</summary>
internal static class TestAudio
{
    /// <summary>A chord of gliding tones with amplitude bursts and low noise: energy across the mel range, silences between bursts.</summary>
    public static float[] Chirps(double seconds, ulong seed = 7)
    {
        int n = (int)(seconds * 16000);
        var samples = new float[n];
        ulong state = seed;
        for (int i = 0; i < n; i++)
        {
            double t = i / 16000.0;
            double envelope = Math.Max(0, Math.Sin(Math.PI * t * 1.5));
            double f = 220 + (1800 * ((t * 0.37) % 1.0));
            double v = (0.3 * Math.Sin(2 * Math.PI * f * t)) + (0.15 * Math.Sin(2 * Math.PI * 3 * f * t)) + (0.05 * Math.Sin(2 * Math.PI * 5100 * t));
            state = (state * 6364136223846793005UL) + 1442695040888963407UL;
            double noise = ((state >> 40) / (double)(1UL << 24)) - 0.5;
            samples[i] = (float)((v * envelope) + (0.01 * noise));
        }

        return samples;
    }
}
