using System.Text.Json;

namespace Capa.Templates.Tests;

/// <summary>Shared helpers: render a snippet, parse JSON variables, a fixed clock.</summary>
internal static class TemplateTestHelpers
{
    public static string Render(string template, object? variables = null)
    {
        IReadOnlyDictionary<string, object?> vars = variables switch
        {
            null => new Dictionary<string, object?>(),
            IReadOnlyDictionary<string, object?> d => d,
            string json => Json(json),
            _ => throw new ArgumentException("variables must be a dictionary or a JSON object string"),
        };
        return ChatTemplate.Parse(template).Render(vars, FixedClock.Instance);
    }

    /// <summary>A JSON object as render variables (each value a <see cref="JsonElement"/>).</summary>
    public static Dictionary<string, object?> Json(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
    }
}

/// <summary>2026-03-09 10:00:00 UTC, with UTC as the local zone.</summary>
internal sealed class FixedClock : TimeProvider
{
    public static readonly FixedClock Instance = new();

    public static readonly DateTimeOffset Now = new(2026, 3, 9, 10, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
