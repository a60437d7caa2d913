using Capa.Engine.Text.Generation;
using Capa.Protocol;

namespace Capa.Server.Tests.Chat;

/// <summary>
/// The wire's <see cref="SamplingRanges"/> and the engine's <see cref="SamplingOptions.Validate"/> accept the same values:
/// a value the parser lets through is never refused a second time by the engine (with a different error).
/// </summary>
public sealed class SamplingRangesAgreementTests
{
    public static TheoryData<string> Parameters() => ["temperature", "top_p", "presence_penalty", "frequency_penalty", "logit_bias"];

    private static (NumberRange Range, Func<float, SamplingOptions> With) Of(string parameter) => parameter switch
    {
        "temperature" => (SamplingRanges.Temperature, v => new SamplingOptions { Temperature = v }),
        "top_p" => (SamplingRanges.TopP, v => new SamplingOptions { TopP = v }),
        "presence_penalty" => (SamplingRanges.PresencePenalty, v => new SamplingOptions { PresencePenalty = v }),
        "frequency_penalty" => (SamplingRanges.FrequencyPenalty, v => new SamplingOptions { FrequencyPenalty = v }),
        "logit_bias" => (SamplingRanges.LogitBias, v => new SamplingOptions { LogitBias = new Dictionary<int, float> { [7] = v } }),
        _ => throw new ArgumentOutOfRangeException(nameof(parameter)),
    };

    [Theory]
    [MemberData(nameof(Parameters))]
    public void The_engine_accepts_the_wire_range_bound_by_bound_and_nothing_beyond(string parameter)
    {
        var (range, with) = Of(parameter);

        foreach (var inside in new[] { range.Min, (range.Min + range.Max) / 2, range.Max })
        {
            Assert.True(range.Contains(inside));
            with((float)inside).Validate();
        }

        foreach (var outside in new[] { range.Min - 0.01, range.Max + 0.01 })
        {
            Assert.False(range.Contains(outside));
            Assert.Throws<ArgumentOutOfRangeException>(() => with((float)outside).Validate());
        }
    }
}
