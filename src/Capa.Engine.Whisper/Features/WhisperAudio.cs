namespace Capa.Engine.Whisper.Features;

/// <summary>The fixed audio parameters of every Whisper model (openai/whisper <c>audio.py</c>).</summary>
public static class WhisperAudio
{
    /// <summary>Samples per second of the audio a model hears.</summary>
    public const int SampleRate = 16000;

    /// <summary>Samples per FFT window (25 ms).</summary>
    public const int FftSize = 400;

    /// <summary>Samples between the starts of successive frames (10 ms).</summary>
    public const int HopLength = 160;

    /// <summary>Seconds in one window the encoder sees.</summary>
    public const int ChunkSeconds = 30;

    /// <summary>Samples in one 30-second window.</summary>
    public const int ChunkSamples = ChunkSeconds * SampleRate;

    /// <summary>Mel frames in one 30-second window (the encoder's input length).</summary>
    public const int ChunkFrames = ChunkSamples / HopLength;

    /// <summary>Frequency bins of the one-sided spectrum.</summary>
    public const int FrequencyBins = FftSize / 2 + 1;

    /// <summary>Mel frames per encoder output position (the encoder's convolution stride is 2).</summary>
    public const int FramesPerToken = 2;

    /// <summary>Seconds per mel frame.</summary>
    public const double SecondsPerFrame = (double)HopLength / SampleRate;

    /// <summary>Seconds per timestamp token step (0.02 s).</summary>
    public const double SecondsPerTimestamp = FramesPerToken * SecondsPerFrame;
}
