using Capa.Engine.Whisper.Features;

namespace Capa.Engine.Whisper.Tests.Features;

public sealed class LogMelSpectrogramTests
{
    [WhisperOracleTheory]
    [InlineData(80, 7.3)]
    [InlineData(80, 30.0)]
    [InlineData(80, 41.0)]
    [InlineData(128, 12.5)]
    public void ComputeWindow_MatchesTransformersJsWithin1e4(int mels, double seconds)
    {
        float[] audio = TestAudio.Chirps(seconds);
        float[] expected = WhisperOracle.Features(audio, mels);
        float[] actual = new LogMelSpectrogram(mels).ComputeWindow(audio);

        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(mels * WhisperAudio.ChunkFrames, actual.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = Math.Abs(actual[i] - expected[i]);
            if (d > worst)
            {
                worst = d;
                worstAt = i;
            }
        }

        Assert.True(worst <= 1e-4, $"max |Δ| = {worst} at mel {worstAt / WhisperAudio.ChunkFrames}, frame {worstAt % WhisperAudio.ChunkFrames}");
    }

    [Fact]
    public void FilterBank_IsSlaneyNormalisedTriangles()
    {
        float[] filters = MelFilterBank.Create(80);
        Assert.Equal(80 * 201, filters.Length);
        // Every filter has some weight; the first starts at 0 Hz and peaks at its centre bin.
        for (int m = 0; m < 80; m++)
        {
            Assert.True(filters.AsSpan(m * 201, 201).ToArray().Max() > 0, $"filter {m} is empty");
        }

        Assert.Equal(0f, filters[0]);
        // The first filter's second bin (40 Hz) lies past its centre c₁ = 45.245 mel / 81 · 200/3 Hz, on the falling
        // side: (2c₁ − 40) / c₁ · 2 / (2c₁), as librosa computes it.
        double c1 = (15 + (Math.Log(8) * 27 / Math.Log(6.4))) / 81 * 200 / 3;
        Assert.Equal((2 * c1 - 40) / c1 * 2 / (2 * c1), filters[1], 5);
    }

    [Fact]
    public void Compute_SilenceIsFlatAndPaddingExtendsFrames()
    {
        var spectrogram = new LogMelSpectrogram(80);
        float[] mel = spectrogram.Compute(new float[16000], WhisperAudio.ChunkSamples, out int frames);
        Assert.Equal((16000 + WhisperAudio.ChunkSamples) / 160, frames);
        // log10(1e-10) = -10 everywhere, so the floor is the maximum: (−10 + 4) / 4.
        Assert.All(mel, v => Assert.Equal(-1.5f, v));
    }

    [Fact]
    public void Slice_PadsPastTheEnd()
    {
        float[] features = [1, 2, 3, 4, 5, 6];
        var window = new float[2 * WhisperAudio.ChunkFrames];
        LogMelSpectrogram.Slice(features, 2, 3, 1, window);
        Assert.Equal([2f, 3f, 0f], window.AsSpan(0, 3).ToArray());
        Assert.Equal([5f, 6f, 0f], window.AsSpan(WhisperAudio.ChunkFrames, 3).ToArray());
    }
}
