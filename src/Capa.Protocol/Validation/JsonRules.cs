using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Capa.Protocol;

/// <summary>
/// Typed reads of JSON values that reject with OpenAI's wording: "Invalid type for 'x': expected ..., but got ...
/// instead.", "Invalid 'x': decimal above maximum value. ...", "Missing required parameter: 'x'." and so on.
/// </summary>
internal sealed class JsonRules(ChatRequestLimits limits)
{
    public ChatRequestLimits Limits { get; } = limits;

    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => IsIntegerLiteral(value) ? "an integer" : "a decimal",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "null",
    };

    public static RequestRejectedException TypeError(string path, string expected, JsonElement actual) => Reject(
        $"Invalid type for '{path}': expected {expected}, but got {Describe(actual)} instead.", path, "invalid_type");

    public static RequestRejectedException Missing(string path) => Reject(
        $"Missing required parameter: '{path}'.", path, "missing_required_parameter");

    public static RequestRejectedException InvalidValue(string path, string value, IReadOnlyList<string> supported) => Reject(
        $"Invalid value: '{Shorten(value)}'. Supported values are: {JoinQuoted(supported)}.", path, "invalid_value");

    public static RequestRejectedException Reject(string message, string? path, string? code) =>
        new(ApiError.InvalidRequest(message, path, code));

    public static RequestRejectedException EmptyArray(string path) => Reject(
        $"Invalid '{path}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        path,
        "empty_array");

    public static RequestRejectedException ArrayTooLong(string path, int max, int actual) => Reject(
        $"Invalid '{path}': array too long. Expected an array with maximum length {max}, but got an array with length {actual} instead.",
        path,
        "array_above_max_length");

    public static RequestRejectedException StringTooLong(string path, int max, int actual) => Reject(
        $"Invalid '{path}': string too long. Expected a string with maximum length {max}, but got a string with length {actual} instead.",
        path,
        "string_above_max_length");

    public string ReadString(JsonElement value, string path) => ReadString(value, path, Limits.MaxStringLength);

    public static string ReadString(JsonElement value, string path, int maxLength)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw TypeError(path, "a string", value);
        }

        // The raw length bounds the decoded length from above (escapes only shrink), so a short raw
        // value needs no second look and a huge one is refused before it is decoded.
        var rawLength = JsonMarshal.GetRawUtf8Value(value).Length - 2;
        if (rawLength > maxLength)
        {
            var text = value.GetString()!;
            if (text.Length > maxLength)
            {
                throw StringTooLong(path, maxLength, text.Length);
            }

            return text;
        }

        return value.GetString()!;
    }

    public string? ReadOptionalString(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Null ? null : ReadString(value, path);

    public static bool ReadBool(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw TypeError(path, "a boolean", value),
    };

    public static bool? ReadOptionalBool(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Null ? null : ReadBool(value, path);

    public static double ReadNumber(JsonElement value, string path, NumberRange range) => ReadNumber(value, path, range.Min, range.Max);

    public static double ReadNumber(JsonElement value, string path, double min, double max)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(path, "a decimal", value);
        }

        // TryGetDouble refuses values that overflow to infinity (1e400); their sign says which bound they break.
        var finite = value.TryGetDouble(out var number) && double.IsFinite(number);
        if (!finite)
        {
            number = RawText(value).StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (number < min)
        {
            throw Reject(
                $"Invalid '{path}': decimal below minimum value. Expected a value >= {Format(min)}, but got {Shorten(RawText(value))} instead.",
                path,
                "decimal_below_min_value");
        }

        if (number > max)
        {
            throw Reject(
                $"Invalid '{path}': decimal above maximum value. Expected a value <= {Format(max)}, but got {Shorten(RawText(value))} instead.",
                path,
                "decimal_above_max_value");
        }

        return number;
    }

    public static long ReadInteger(JsonElement value, string path, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(path, "an integer", value);
        }

        long number;
        if (!value.TryGetInt64(out number))
        {
            // Not a plain 64-bit literal: 1e2 and 2.0 are whole numbers; 1.5 is not; 1e400 and 1e30 are out of range.
            // (long.MinValue itself was read above, so a value that rounds to -2^63 here lies beyond it.)
            var isDouble = value.TryGetDouble(out var d) && double.IsFinite(d);
            if (isDouble && Math.Floor(d) != d)
            {
                throw TypeError(path, "an integer", value);
            }

            if (!isDouble)
            {
                d = RawText(value).StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
            }

            if (d >= 9.2233720368547758E18)
            {
                throw IntegerAbove(path, max, value);
            }

            if (d <= -9.2233720368547758E18)
            {
                throw IntegerBelow(path, min, value);
            }

            number = (long)d;
        }

        if (number < min)
        {
            throw IntegerBelow(path, min, value);
        }

        if (number > max)
        {
            throw IntegerAbove(path, max, value);
        }

        return number;
    }

    public static JsonElement RequireObject(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Object ? value : throw TypeError(path, "an object", value);

    public static JsonElement RequireArray(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Array ? value : throw TypeError(path, "an array", value);

    public static JsonElement? OptionalObject(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Null ? null : RequireObject(value, path);

    public static JsonElement GetRequired(JsonElement obj, string name, string path) =>
        obj.TryGetProperty(name, out var value) ? value : throw Missing(path);

    public static string RawText(JsonElement value) => Encoding.UTF8.GetString(JsonMarshal.GetRawUtf8Value(value));

    public static string Shorten(string text) =>
        text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");

    private static RequestRejectedException IntegerAbove(string path, long max, JsonElement value) => Reject(
        $"Invalid '{path}': integer above maximum value. Expected a value <= {max.ToString(CultureInfo.InvariantCulture)}, but got {Shorten(RawText(value))} instead.",
        path,
        "integer_above_max_value");

    private static RequestRejectedException IntegerBelow(string path, long min, JsonElement value) => Reject(
        $"Invalid '{path}': integer below minimum value. Expected a value >= {min.ToString(CultureInfo.InvariantCulture)}, but got {Shorten(RawText(value))} instead.",
        path,
        "integer_below_min_value");

    private static bool IsIntegerLiteral(JsonElement number)
    {
        var raw = JsonMarshal.GetRawUtf8Value(number);
        return raw.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string JoinQuoted(IReadOnlyList<string> values)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(values.Count > 2 ? ", " : " ");
            }

            if (i == values.Count - 1 && values.Count > 1)
            {
                builder.Append("and ");
            }

            builder.Append('\'').Append(values[i]).Append('\'');
        }

        return builder.ToString();
    }
}
