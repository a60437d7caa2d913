using Capa.Media.Audio;

namespace Capa.Media.Tests.Audio;

public sealed class ResamplerTests
{
    [Theory]
    [InlineData(22_050, 24_000)]
    [InlineData(16_000, 24_000)]
    [InlineData(48_000, 24_000)]
    [InlineData(44_100, 16_000)]
    public void Keeps_a_tone_below_both_nyquists(int from, int to)
    {
        var input = MediaTools.Tone(from, 0.5, 1000);
        var output = Resampler.Resample(input, from, to);

        Assert.InRange(output.Length, ((long)input.Length * to / from) - 1, ((long)input.Length * to / from) + 1);
        var expected = MediaTools.Tone(to, 0.5, 1000);

        // Away from the edges the result is the same tone sampled at the new rate.
        var worst = 0.0;
        for (var i = 200; i < output.Length - 200; i++)
        {
            worst = Math.Max(worst, Math.Abs(output[i] - expected[i]));
        }

        Assert.True(worst < 2e-3, $"Largest error {worst}.");
    }

    [Fact]
    public void Removes_what_the_new_rate_cannot_carry()
    {
        // 10 kHz is above the 8 kHz Nyquist of 16 kHz: it must not fold back as a 6 kHz alias.
        var output = Resampler.Resample(MediaTools.Tone(48_000, 0.5, 10_000), 48_000, 16_000);
        var rms = Math.Sqrt(output.Skip(200).SkipLast(200).Average(s => (double)s * s));
        Assert.True(rms < 0.003, $"Alias energy {rms}.");
    }

    [Fact]
    public void Output_does_not_depend_on_how_the_input_is_chunked()
    {
        var input = MediaTools.Tone(22_050, 0.3, 333);
        var whole = Resampler.Resample(input, 22_050, 24_000);

        var resampler = new Resampler(22_050, 24_000);
        var pieces = new List<float>();
        var random = new Random(3);
        var offset = 0;
        while (offset < input.Length)
        {
            var length = Math.Min(random.Next(1, 700), input.Length - offset);
            resampler.Process(input.AsSpan(offset, length), pieces);
            offset += length;
        }

        resampler.Flush(pieces);
        Assert.Equal(whole, pieces);
    }

    [Fact]
    public void Same_rate_is_a_copy()
    {
        float[] input = [0.1f, 0.2f, -0.3f];
        Assert.Equal(input, Resampler.Resample(input, 24_000, 24_000));
    }
}
