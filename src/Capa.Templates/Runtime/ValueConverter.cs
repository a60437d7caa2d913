using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Templates.Runtime;

/// <summary>
/// Converts render variables into the interpreter's value model: CLR primitives, lists, dictionaries and
/// System.Text.Json <see cref="JsonElement"/> / <see cref="JsonNode"/> trees (tools and tool-call arguments arrive as JSON).
/// Numbers follow the reference renderer, where a JSON number with no fraction (2, 2.0, 1e3) is an integer.
/// </summary>
internal static class ValueConverter
{
    private const int MaxDepth = 128;

    public static Value FromObject(object? value, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"Template variables are nested more than {MaxDepth} levels deep.");
        }

        switch (value)
        {
            case null:
                return NoneValue.Instance;
            case Value v:
                return v;
            case string s:
                return new StringValue(s);
            case char c:
                return new StringValue(c.ToString());
            case bool b:
                return BoolValue.Of(b);
            case int or long or short or sbyte or byte or ushort or uint:
                return IntValue.Of(Convert.ToInt64(value, CultureInfo.InvariantCulture));
            case ulong ul:
                return ul <= long.MaxValue ? IntValue.Of((long)ul) : new FloatValue(ul);
            case double d:
                return FromDouble(d);
            case float f:
                return FromDouble(f);
            case decimal m:
                return FromDouble((double)m);
            case JsonElement element:
                return FromJsonElement(element, depth);
            case JsonNode node:
                return FromJsonNode(node, depth);
            case IReadOnlyDictionary<string, object?> readOnlyDictionary:
            {
                var dict = new DictValue();
                foreach (KeyValuePair<string, object?> pair in readOnlyDictionary)
                {
                    dict.Entries[pair.Key] = FromObject(pair.Value, depth + 1);
                }

                return dict;
            }

            case IDictionary dictionary:
            {
                var dict = new DictValue();
                foreach (DictionaryEntry entry in dictionary)
                {
                    string key = entry.Key as string ?? throw new ArgumentException(
                        $"Template mappings need string keys; got a key of type {entry.Key.GetType().Name}.");
                    dict.Entries[key] = FromObject(entry.Value, depth + 1);
                }

                return dict;
            }

            case IEnumerable enumerable:
            {
                var items = new List<Value>();
                foreach (object? item in enumerable)
                {
                    items.Add(FromObject(item, depth + 1));
                }

                return new ListValue(items);
            }

            default:
                throw new ArgumentException(
                    $"Cannot pass a value of type {value.GetType().FullName} to a chat template; use strings, numbers, booleans, " +
                    "null, lists, dictionaries with string keys, JsonElement or JsonNode.");
        }
    }

    private static Value FromDouble(double d) =>
        double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) <= 9007199254740991d ? IntValue.Of((long)d) : new FloatValue(d);

    private static Value FromJsonElement(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Null:
                return NoneValue.Instance;
            case JsonValueKind.True:
                return BoolValue.True;
            case JsonValueKind.False:
                return BoolValue.False;
            case JsonValueKind.String:
                return new StringValue(element.GetString()!);
            case JsonValueKind.Number:
                return element.TryGetInt64(out long l) ? IntValue.Of(l) : FromDouble(element.GetDouble());
            case JsonValueKind.Array:
            {
                var items = new List<Value>(element.GetArrayLength());
                foreach (JsonElement item in element.EnumerateArray())
                {
                    items.Add(FromObject(item, depth + 1));
                }

                return new ListValue(items);
            }

            case JsonValueKind.Object:
            {
                // A repeated key keeps its first position and takes the last value, as JSON.parse does.
                var dict = new DictValue();
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    dict.Entries[property.Name] = FromObject(property.Value, depth + 1);
                }

                return dict;
            }

            default:
                return UndefinedValue.Instance;
        }
    }

    private static Value FromJsonNode(JsonNode node, int depth)
    {
        switch (node)
        {
            case JsonObject obj:
            {
                var dict = new DictValue();
                foreach (KeyValuePair<string, JsonNode?> pair in obj)
                {
                    dict.Entries[pair.Key] = pair.Value is null ? NoneValue.Instance : FromObject(pair.Value, depth + 1);
                }

                return dict;
            }

            case JsonArray array:
            {
                var items = new List<Value>(array.Count);
                foreach (JsonNode? item in array)
                {
                    items.Add(item is null ? NoneValue.Instance : FromObject(item, depth + 1));
                }

                return new ListValue(items);
            }

            case JsonValue jsonValue:
            {
                if (jsonValue.TryGetValue(out JsonElement element))
                {
                    return FromJsonElement(element, depth);
                }

                if (jsonValue.TryGetValue(out string? s))
                {
                    return new StringValue(s);
                }

                if (jsonValue.TryGetValue(out bool b))
                {
                    return BoolValue.Of(b);
                }

                if (jsonValue.TryGetValue(out long l))
                {
                    return IntValue.Of(l);
                }

                if (jsonValue.TryGetValue(out double d))
                {
                    return FromDouble(d);
                }

                return FromJsonElement(JsonSerializer.SerializeToElement(jsonValue, JsonNodeContext.Default.JsonNode), depth);
            }

            default:
                return NoneValue.Instance;
        }
    }
}
