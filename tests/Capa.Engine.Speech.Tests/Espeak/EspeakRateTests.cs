using Capa.Engine.Speech.Espeak;

namespace Capa.Engine.Speech.Tests.Espeak;

public sealed class EspeakRateTests
{
    [Theory]
    [InlineData(1.0, new[] { "-s", "175" })]
    [InlineData(2.0, new[] { "-s", "350" })]
    [InlineData(4.0, new[] { "-s", "700" })]
    [InlineData(0.5, new[] { "-s", "88" })]
    [InlineData(0.25, new[] { "-s", "80", "-g", "19" })]
    public void Maps_speed_to_words_per_minute_and_word_gaps(double speed, string[] expected)
    {
        Assert.Equal(expected, EspeakRate.Arguments(speed));
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(4.01)]
    public void Refuses_speeds_outside_OpenAIs_range(double speed)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EspeakRate.Arguments(speed));
    }
}
