using System.Globalization;
using Capa.Protocol.Tests.Validation;

namespace Capa.Protocol.Tests.Chat;

/// <summary>The chat reader accepts exactly the values <see cref="SamplingRanges"/> contains: the ranges are written once.</summary>
public sealed class SamplingRangesTests
{
    public static TheoryData<string> Parameters => ["temperature", "top_p", "presence_penalty", "frequency_penalty"];

    private static NumberRange RangeOf(string parameter) => parameter switch
    {
        "temperature" => SamplingRanges.Temperature,
        "top_p" => SamplingRanges.TopP,
        "presence_penalty" => SamplingRanges.PresencePenalty,
        "frequency_penalty" => SamplingRanges.FrequencyPenalty,
        _ => throw new ArgumentOutOfRangeException(nameof(parameter)),
    };

    [Theory]
    [MemberData(nameof(Parameters))]
    public void The_reader_accepts_the_bounds_and_refuses_just_outside_them(string parameter)
    {
        var range = RangeOf(parameter);
        foreach (var value in new[] { range.Min, range.Max, (range.Min + range.Max) / 2 })
        {
            Assert.True(range.Contains(value));
            ChatRequestReaderTests.Read(Body(parameter, value));
        }

        foreach (var value in new[] { range.Min - 0.001, range.Max + 0.001 })
        {
            Assert.False(range.Contains(value));
            var error = ChatRequestReaderTests.Reject(Body(parameter, value));
            Assert.Equal(parameter, error.Param);
        }
    }

    [Fact]
    public void Logit_bias_values_use_their_range()
    {
        var range = SamplingRanges.LogitBias;
        ChatRequestReaderTests.Read(LogitBias(range.Min));
        ChatRequestReaderTests.Read(LogitBias(range.Max));
        Assert.Equal("logit_bias.7", ChatRequestReaderTests.Reject(LogitBias(range.Max + 0.5)).Param);
    }

    [Fact]
    public void A_range_contains_no_nan_or_infinity_and_says_itself_as_messages_do()
    {
        Assert.False(SamplingRanges.Temperature.Contains(double.NaN));
        Assert.False(SamplingRanges.TopP.Contains(double.PositiveInfinity));
        Assert.Equal("between 0 and 2", SamplingRanges.Temperature.ToString());
        Assert.Equal("between -2 and 2", SamplingRanges.PresencePenalty.ToString());
    }

    private static string Body(string parameter, double value) =>
        $$"""{"model":"m","messages":[{"role":"user","content":"hi"}],"{{parameter}}":{{value.ToString("R", CultureInfo.InvariantCulture)}}}""";

    private static string LogitBias(double value) =>
        $$$"""{"model":"m","messages":[{"role":"user","content":"hi"}],"logit_bias":{"7":{{{value.ToString("R", CultureInfo.InvariantCulture)}}}}}""";
}
