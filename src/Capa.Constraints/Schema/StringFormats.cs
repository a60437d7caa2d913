namespace Capa.Constraints.Schema;

/// <summary>
/// The string formats enforced, as patterns. They are deliberately narrower than the RFCs where validators
/// disagree: dates never name a day a month lacks (29 February is left out), years start at 1000, times
/// have at most 6 fraction digits and an explicit offset.
/// </summary>
internal static class StringFormats
{
    private const string Date = @"[1-9]\d{3}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))";
    private const string Time = @"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:0\d|1[0-3]):[0-5]\d)";

    private static readonly Dictionary<string, string> Patterns = new(StringComparer.Ordinal)
    {
        ["date"] = $"^{Date}$",
        ["time"] = $"^{Time}$",
        ["date-time"] = $"^{Date}T{Time}$",
        ["uuid"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        ["email"] = @"^[a-z0-9]+(?:[._+-][a-z0-9]+)*@[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*\.[a-z]{2,10}$",
        ["ipv4"] = @"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$",
    };

    public static IEnumerable<string> Names => Patterns.Keys;

    public static string? Pattern(string format) => Patterns.GetValueOrDefault(format);
}
