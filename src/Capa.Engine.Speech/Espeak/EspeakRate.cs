using System.Globalization;

namespace Capa.Engine.Speech.Espeak;

/// <summary>
/// Maps OpenAI's speed factor (0.25 to 4) onto espeak-ng's rate in words per minute: 175 (espeak-ng's normal rate) times
/// the factor. espeak-ng speaks no slower than 80 words a minute, so below a factor of 80/175 the rest of the slowing
/// comes from longer pauses between words (<c>-g</c>, in 10 ms units), keeping the total duration near 1/speed.
/// </summary>
public static class EspeakRate
{
    /// <summary>Version of this mapping (part of the voice fingerprint).</summary>
    public const string Version = "wpm175xspeed/gap32ms-below-80/v2";

    /// <summary>espeak-ng's normal rate.</summary>
    public const int NormalWordsPerMinute = 175;

    /// <summary>espeak-ng's slowest rate.</summary>
    public const int MinWordsPerMinute = 80;

    /// <summary>
    /// Pause one <c>-g</c> unit adds after each written word at 80 words a minute. espeak-ng documents the unit as
    /// 10 ms at its normal rate; it scales with the rate and with espeak-ng's notion of a word, and measures 32 ms here
    /// (espeak-ng 1.51: 13 words, 4.2 s more per 10 units).
    /// </summary>
    public const double GapUnitSecondsAtMinRate = 0.032;

    /// <summary>The command-line arguments for a speed factor.</summary>
    public static IReadOnlyList<string> Arguments(double speed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(speed, 0.25);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(speed, 4.0);
        var wanted = NormalWordsPerMinute * speed;
        var wpm = (int)Math.Round(Math.Max(wanted, MinWordsPerMinute), MidpointRounding.AwayFromZero);
        List<string> args = ["-s", wpm.ToString(CultureInfo.InvariantCulture)];
        if (wanted < MinWordsPerMinute)
        {
            // Seconds per word wanted, less seconds per word at the slowest rate, in word-gap units.
            var extra = (60.0 / wanted) - (60.0 / MinWordsPerMinute);
            var gap = (int)Math.Round(extra / GapUnitSecondsAtMinRate, MidpointRounding.AwayFromZero);
            args.AddRange(["-g", gap.ToString(CultureInfo.InvariantCulture)]);
        }

        return args;
    }
}
