using System.Globalization;
using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>Options of the <c>tojson</c> filter.</summary>
internal readonly record struct JsonOptions(int? Indent, bool EnsureAscii, bool SortKeys, string? ItemSeparator, string? KeySeparator);

/// <summary>
/// How values become text: printing (<c>{{ x }}</c>, <c>string</c>, <c>~</c>) and JSON (<c>tojson</c>). Both follow the
/// reference renderer byte for byte: JavaScript number formatting, <c>JSON.stringify</c> string escaping, and
/// Python's <c>json.dumps</c> layout (", " and ": " separators, "," with an indent, key order kept, non-ASCII kept).
/// </summary>
internal static class Formatting
{
    /// <summary>The text <c>{{ value }}</c> prints. None and undefined print nothing.</summary>
    public static string ToOutput(Value value) => value switch
    {
        StringValue s => s.Value,
        IntValue i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatValue f => FloatToString(f.Value),
        BoolValue b => b.Value ? "true" : "false",
        NoneValue or UndefinedValue => string.Empty,
        ListValue or DictValue or NamespaceValue => ToJson(value, default, undefinedAsNull: false),
        FunctionValue fn => $"[function {fn.Name}]",
        _ => string.Empty,
    };

    /// <summary>A float as the reference prints it: "2.0" for whole numbers, "-0.0", otherwise JavaScript's shortest form.</summary>
    public static string FloatToString(double value)
    {
        if (value == 0 && double.IsNegative(value))
        {
            return "-0.0";
        }

        if (double.IsFinite(value) && Math.Abs(value) < 1e21 && value == Math.Floor(value))
        {
            return value.ToString("F1", CultureInfo.InvariantCulture);
        }

        return JsNumber(value);
    }

    /// <summary>JavaScript's <c>Number.prototype.toString()</c> for a double (shortest round-trip digits).</summary>
    public static string JsNumber(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return "0";
        }

        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = r;
        int exponent = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            mantissa = r[..e];
            exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        int pointPosition = (dot >= 0 ? dot : mantissa.Length) + exponent;
        int leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
        {
            leading++;
        }

        digits = digits[leading..];
        pointPosition -= leading;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
        {
            return "0";
        }

        // ECMAScript Number::toString: value = 0.digits × 10^n.
        int k = digits.Length;
        int n = pointPosition;
        var sb = new StringBuilder();
        if (value < 0)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            int exp = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(exp >= 0 ? '+' : '-').Append(Math.Abs(exp).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>Serializes <paramref name="value"/> as <c>tojson</c> does.</summary>
    public static string ToJson(Value value, JsonOptions options, bool undefinedAsNull = true)
    {
        var sb = new StringBuilder();
        WriteJson(sb, value, options, 0, undefinedAsNull);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, Value value, JsonOptions options, int depth, bool undefinedAsNull)
    {
        switch (value)
        {
            case NoneValue:
                sb.Append("null");
                return;
            case UndefinedValue:
                sb.Append(undefinedAsNull ? "null" : "undefined");
                return;
            case BoolValue b:
                sb.Append(b.Value ? "true" : "false");
                return;
            case IntValue i:
                sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                return;
            case FloatValue f:
                sb.Append(double.IsFinite(f.Value) ? JsNumber(f.Value) : "null");
                return;
            case StringValue s:
                WriteJsonString(sb, s.Value, options.EnsureAscii);
                return;
            case ListValue list:
                WriteContainer(sb, '[', ']', list.Items.Count, options, depth, (index, builder) =>
                    WriteJson(builder, list.Items[index], options, depth + 1, undefinedAsNull));
                return;
            case DictValue or NamespaceValue:
            {
                OrderedDictionary<string, Value> entries = value is DictValue d ? d.Entries : ((NamespaceValue)value).Entries;
                List<KeyValuePair<string, Value>> pairs = [.. entries];
                if (options.SortKeys)
                {
                    pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                }

                string keySeparator = options.KeySeparator ?? ": ";
                WriteContainer(sb, '{', '}', pairs.Count, options, depth, (index, builder) =>
                {
                    WriteJsonString(builder, pairs[index].Key, options.EnsureAscii);
                    builder.Append(keySeparator);
                    WriteJson(builder, pairs[index].Value, options, depth + 1, undefinedAsNull);
                });
                return;
            }

            default:
                throw new TemplateRuntimeError($"Cannot convert a {value.TypeName} to JSON");
        }
    }

    private static void WriteContainer(
        StringBuilder sb, char open, char close, int count, JsonOptions options, int depth, Action<int, StringBuilder> writeItem)
    {
        bool indented = options.Indent is > 0;
        string itemSeparator = options.ItemSeparator ?? (indented ? "," : ", ");
        sb.Append(open);
        if (count == 0)
        {
            sb.Append(close);
            return;
        }

        string childPadding = indented ? "\n" + new string(' ', options.Indent!.Value * (depth + 1)) : string.Empty;
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(itemSeparator);
            }

            sb.Append(childPadding);
            writeItem(i, sb);
        }

        if (indented)
        {
            sb.Append('\n').Append(' ', options.Indent!.Value * depth);
        }

        sb.Append(close);
    }

    /// <summary>A JSON string as JavaScript's <c>JSON.stringify</c> writes it (optionally with every char ≥ U+007F escaped).</summary>
    public static void WriteJsonString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    continue;
                case '\\':
                    sb.Append("\\\\");
                    continue;
                case '\b':
                    sb.Append("\\b");
                    continue;
                case '\f':
                    sb.Append("\\f");
                    continue;
                case '\n':
                    sb.Append("\\n");
                    continue;
                case '\r':
                    sb.Append("\\r");
                    continue;
                case '\t':
                    sb.Append("\\t");
                    continue;
            }

            bool loneSurrogate = char.IsSurrogate(c)
                && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1]));
            if (c < 0x20 || loneSurrogate || (ensureAscii && c >= 0x7F))
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        sb.Append('"');
    }
}
