using System.Text.Json;

namespace Capa.Tokenizers.Text;

/// <summary>Small readers for optional tokenizer.json fields, with errors that name the field.</summary>
internal static class JsonConfig
{
    public static string TypeOf(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"Every {what} in tokenizer.json needs a string \"type\".");
        }

        return type.GetString()!;
    }

    public static bool IsNullOrMissing(this JsonElement element) =>
        element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public static JsonElement Get(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static string? GetString(this JsonElement element, string name)
    {
        var value = element.Get(name);
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => throw new FormatException($"tokenizer.json field \"{name}\" must be a string."),
        };
    }

    public static bool GetBool(this JsonElement element, string name, bool fallback)
    {
        var value = element.Get(name);
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null or JsonValueKind.Undefined => fallback,
            _ => throw new FormatException($"tokenizer.json field \"{name}\" must be a boolean."),
        };
    }

    public static int GetInt(this JsonElement element, string name, int fallback)
    {
        var value = element.Get(name);
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt32(),
            JsonValueKind.Null or JsonValueKind.Undefined => fallback,
            _ => throw new FormatException($"tokenizer.json field \"{name}\" must be an integer."),
        };
    }

    /// <summary>Reads a {"String": s} or {"Regex": r} pattern.</summary>
    public static TokenizerRegex GetPattern(this JsonElement element, string name)
    {
        var pattern = element.Get(name);
        if (pattern.ValueKind == JsonValueKind.Object)
        {
            if (pattern.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String)
            {
                return TokenizerRegex.FromLiteral(s.GetString()!);
            }

            if (pattern.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String)
            {
                return TokenizerRegex.FromOniguruma(r.GetString()!);
            }
        }

        if (pattern.ValueKind == JsonValueKind.String)
        {
            return TokenizerRegex.FromLiteral(pattern.GetString()!);
        }

        throw new FormatException($"tokenizer.json field \"{name}\" must be {{\"String\": ...}} or {{\"Regex\": ...}}.");
    }
}
