using System.Globalization;

namespace Capa.Protocol;

/// <summary>An inclusive range of the numbers a parameter accepts.</summary>
public readonly record struct NumberRange(double Min, double Max)
{
    /// <summary>Whether <paramref name="value"/> is a finite number inside the range.</summary>
    public bool Contains(double value) => double.IsFinite(value) && value >= Min && value <= Max;

    /// <summary>The range as messages say it: <c>between 0 and 2</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"between {Min} and {Max}");
}

/// <summary>
/// OpenAI's ranges for the sampling parameters, written once: the readers of chat completions, Responses and
/// Assistants requests refuse a value outside them with OpenAI's 400, and the CLI checks its flags against them before
/// it sends a request. The engine's own <c>SamplingOptions.Validate</c> is the engine's contract for callers that do not
/// come through the wire (it cannot see this layer); it accepts exactly these ranges, which a server test checks bound by
/// bound, so a value the wire lets through is never refused again by the engine.
/// </summary>
public static class SamplingRanges
{
    /// <summary><c>temperature</c>: 0 to 2.</summary>
    public static NumberRange Temperature { get; } = new(0, 2);

    /// <summary><c>top_p</c>: 0 to 1 (0 keeps only the most likely token).</summary>
    public static NumberRange TopP { get; } = new(0, 1);

    /// <summary><c>presence_penalty</c>: -2 to 2.</summary>
    public static NumberRange PresencePenalty { get; } = new(-2, 2);

    /// <summary><c>frequency_penalty</c>: -2 to 2.</summary>
    public static NumberRange FrequencyPenalty { get; } = new(-2, 2);

    /// <summary>Each <c>logit_bias</c> value: -100 to 100.</summary>
    public static NumberRange LogitBias { get; } = new(-100, 100);
}
