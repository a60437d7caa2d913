using System.Globalization;
using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>
/// The filters of <c>value | name(arguments)</c>. Output follows the reference renderer where it defines a filter, and
/// Jinja's Python filters elsewhere (e.g. <c>default</c> without arguments, <c>round</c>, <c>batch</c>, <c>escape</c>).
/// </summary>
internal static class Filters
{
    public static Value Apply(Interpreter interpreter, Value operand, string name, Arguments args, Scope scope, int offset)
    {
        switch (name)
        {
            case "safe":
                return operand;
            case "tojson":
                return new StringValue(Formatting.ToJson(operand, JsonOptionsFrom(args)));
            case "default" or "d":
            {
                Value fallback = args.Get(0, "default_value") ?? StringValue.Empty;
                bool boolean = BoolArg(args, 1, "boolean", false);
                return operand is UndefinedValue || (boolean && !operand.IsTruthy) ? fallback : operand;
            }

            case "length" or "count":
                return operand switch
                {
                    ListValue list => IntValue.Of(list.Items.Count),
                    StringValue s => IntValue.Of(s.Value.Length),
                    DictValue dict => IntValue.Of(dict.Entries.Count),
                    NamespaceValue ns => IntValue.Of(ns.Entries.Count),
                    UndefinedValue => IntValue.Of(0),
                    _ => throw NotFor(name, operand),
                };
            case "list":
                return new ListValue([.. Iterate(operand)]);
            case "first":
                return operand switch
                {
                    ListValue list => list.Items.Count > 0 ? list.Items[0] : UndefinedValue.Instance,
                    StringValue s => s.Value.Length > 0 ? new StringValue(TextRules.CodePoints(s.Value)[0]) : UndefinedValue.Instance,
                    _ => Iterate(operand).FirstOrDefault() ?? UndefinedValue.Instance,
                };
            case "last":
                return operand switch
                {
                    ListValue list => list.Items.Count > 0 ? list.Items[^1] : UndefinedValue.Instance,
                    StringValue s => s.Value.Length > 0 ? new StringValue(TextRules.CodePoints(s.Value)[^1]) : UndefinedValue.Instance,
                    _ => Iterate(operand).LastOrDefault() ?? UndefinedValue.Instance,
                };
            case "reverse":
                return operand switch
                {
                    StringValue s => new StringValue(string.Concat(Enumerable.Reverse(TextRules.CodePoints(s.Value)))),
                    _ => new ListValue([.. Enumerable.Reverse(Iterate(operand))]),
                };
            case "join":
                return Join(operand, args);
            case "string":
                return new StringValue(operand is NoneValue ? "None" : Formatting.ToOutput(operand));
            case "trim":
            {
                string s = Text(operand, name);
                return new StringValue(args.Get(0, "chars") is StringValue chars ? TextRules.Strip(s, chars.Value, true, true) : TextRules.Trim(s));
            }

            case "upper":
                return new StringValue(Text(operand, name).ToUpperInvariant());
            case "lower":
                return new StringValue(Text(operand, name).ToLowerInvariant());
            case "title":
                return new StringValue(TextRules.Title(Text(operand, name)));
            case "capitalize":
                return new StringValue(TextRules.Capitalize(Text(operand, name)));
            case "replace":
                return new StringValue(Members.Replace(Text(operand, name), args));
            case "indent":
                return new StringValue(Indent(Text(operand, name), args));
            case "escape" or "e":
                return new StringValue(Escape(operand is StringValue es ? es.Value : Formatting.ToOutput(operand)));
            case "int":
                return ToInt(operand, args);
            case "float":
                return ToFloat(operand, args);
            case "abs":
                return operand switch
                {
                    IntValue i => IntValue.Of(Math.Abs(i.Value)),
                    FloatValue f => new FloatValue(Math.Abs(f.Value)),
                    _ => throw NotFor(name, operand),
                };
            case "round":
                return Round(operand, args);
            case "items":
                return operand switch
                {
                    DictValue dict => Members.Items(dict),
                    UndefinedValue => new ListValue([]),
                    _ => throw NotFor(name, operand),
                };
            case "keys" or "values" or "dictsort" when operand is DictValue dict:
                return name == "dictsort"
                    ? Members.DictSort(dict, args)
                    : ((FunctionValue)Members.Get(dict, new StringValue(name))).Invoke(args, new CallSite(interpreter, scope, offset));
            case "unique":
            {
                var output = new List<Value>();
                foreach (Value item in Iterate(operand))
                {
                    if (!output.Exists(seen => Operators.StrictEquals(seen, item)))
                    {
                        output.Add(item);
                    }
                }

                return new ListValue(output);
            }

            case "sort":
                return Sort(operand, args);
            case "selectattr" or "rejectattr":
                return SelectAttribute(operand, args, select: name == "selectattr");
            case "select" or "reject":
                return Select(operand, args, select: name == "select");
            case "map":
                return Map(interpreter, operand, args, scope, offset);
            case "batch":
                return Batch(operand, args);
            case "sum":
            {
                Value total = args.Get(1, "start") ?? IntValue.Of(0);
                string? attribute = args.Get(0, "attribute") is StringValue a ? a.Value : null;
                foreach (Value item in Iterate(operand))
                {
                    total = Operators.Binary("+", total, attribute is null ? item : Attribute(item, attribute));
                }

                return total;
            }

            case "min" or "max":
            {
                List<Value> items = [.. Iterate(operand)];
                if (items.Count == 0)
                {
                    return UndefinedValue.Instance;
                }

                bool caseSensitive = BoolArg(args, 0, "case_sensitive", false);
                Value best = items[0];
                foreach (Value item in items.Skip(1))
                {
                    int c = Compare(item, best, caseSensitive);
                    if (name == "min" ? c < 0 : c > 0)
                    {
                        best = item;
                    }
                }

                return best;
            }

            case "wordcount":
                return IntValue.Of(Text(operand, name).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
            case "bool":
                return BoolValue.Of(operand.IsTruthy);
            default:
                throw new TemplateRuntimeError($"Unknown filter '{name}'");
        }
    }

    private static TemplateRuntimeError NotFor(string filter, Value operand) =>
        new($"The filter '{filter}' cannot be applied to a {operand.TypeName}");

    private static string Text(Value operand, string filter) => operand switch
    {
        StringValue s => s.Value,
        _ => throw NotFor(filter, operand),
    };

    /// <summary>The items a filter or loop walks: list items, mapping keys, string characters; undefined is empty.</summary>
    public static IEnumerable<Value> Iterate(Value value) => value switch
    {
        ListValue list => list.Items,
        DictValue dict => dict.Entries.Keys.Select(k => (Value)new StringValue(k)),
        StringValue s => TextRules.CodePoints(s.Value).Select(c => (Value)new StringValue(c)),
        UndefinedValue => [],
        _ => throw new TemplateRuntimeError($"A {value.TypeName} is not iterable"),
    };

    public static bool BoolArg(Arguments args, int index, string name, bool fallback) => args.Get(index, name) switch
    {
        null => fallback,
        BoolValue b => b.Value,
        Value other => throw new TemplateRuntimeError($"'{name}' must be a boolean, got a {other.TypeName}"),
    };

    public static string StringArg(Arguments args, int index, string name, string fallback) => args.Get(index, name) switch
    {
        null => fallback,
        StringValue s => s.Value,
        Value other => throw new TemplateRuntimeError($"'{name}' must be a string, got a {other.TypeName}"),
    };

    private static JsonOptions JsonOptionsFrom(Arguments args)
    {
        int? indent = args.Get(0, "indent") switch
        {
            null or NoneValue => null,
            IntValue i => (int)Math.Clamp(i.Value, 0, 64),
            Value other => throw new TemplateRuntimeError($"tojson's indent must be an integer, got a {other.TypeName}"),
        };
        bool ensureAscii = args.Keywords.TryGetValue("ensure_ascii", out Value? ea) && (ea as BoolValue ?? throw new TemplateRuntimeError("ensure_ascii must be a boolean")).Value;
        bool sortKeys = args.Keywords.TryGetValue("sort_keys", out Value? sk) && (sk as BoolValue ?? throw new TemplateRuntimeError("sort_keys must be a boolean")).Value;
        string? itemSeparator = null, keySeparator = null;
        if (args.Keywords.TryGetValue("separators", out Value? separators) && separators is not NoneValue)
        {
            if (separators is not ListValue { Items: [StringValue item, StringValue key] })
            {
                throw new TemplateRuntimeError("tojson's separators must be a pair of strings");
            }

            itemSeparator = item.Value;
            keySeparator = key.Value;
        }

        return new JsonOptions(indent, ensureAscii, sortKeys, itemSeparator, keySeparator);
    }

    private static StringValue Join(Value operand, Arguments args)
    {
        string separator = StringArg(args, 0, "d", string.Empty);
        if (args.Keywords.TryGetValue("separator", out Value? named))
        {
            separator = named is StringValue s ? s.Value : throw new TemplateRuntimeError("join's separator must be a string");
        }

        string? attribute = args.Get(1, "attribute") is StringValue a ? a.Value : null;
        IEnumerable<Value> items = Iterate(operand);
        if (attribute is not null)
        {
            items = items.Select(item => Attribute(item, attribute));
        }

        // Missing values join as empty text, as JavaScript's Array.prototype.join does.
        return new StringValue(string.Join(separator, items.Select(v => v is NoneValue or UndefinedValue ? string.Empty : Operators.ToJsString(v))));
    }

    /// <summary>HTML escaping as markupsafe does it.</summary>
    private static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&#34;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    private static string Indent(string s, Arguments args)
    {
        string indent = args.Get(0, "width") switch
        {
            null => "    ",
            IntValue w => new string(' ', (int)Math.Clamp(w.Value, 0, 1024)),
            StringValue text => text.Value,
            Value other => throw new TemplateRuntimeError($"indent's width must be an integer or a string, got a {other.TypeName}"),
        };
        bool first = args.Get(1, "first")?.IsTruthy ?? false;
        bool blank = args.Get(2, "blank")?.IsTruthy ?? false;
        string[] lines = s.Split('\n');
        var sb = new StringBuilder(s.Length + (lines.Length * indent.Length));
        for (int i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                sb.Append('\n');
            }

            bool skip = (!first && i == 0) || (!blank && lines[i].Length == 0);
            if (!skip)
            {
                sb.Append(indent);
            }

            sb.Append(lines[i]);
        }

        return sb.ToString();
    }

    private static Value ToInt(Value operand, Arguments args)
    {
        Value fallback = args.Get(0, "default") ?? IntValue.Of(0);
        return operand switch
        {
            IntValue => operand,
            FloatValue f => double.IsFinite(f.Value) ? IntValue.Of((long)Math.Floor(f.Value)) : fallback,
            BoolValue b => IntValue.Of(b.Value ? 1 : 0),
            StringValue s => ParseIntPrefix(s.Value) is long l ? IntValue.Of(l) : fallback,
            _ => throw NotFor("int", operand),
        };
    }

    private static Value ToFloat(Value operand, Arguments args)
    {
        Value fallback = args.Get(0, "default") ?? new FloatValue(0);
        return operand switch
        {
            IntValue i => new FloatValue(i.Value),
            FloatValue => operand,
            BoolValue b => new FloatValue(b.Value ? 1 : 0),
            StringValue s => ParseFloatPrefix(s.Value) is double d ? new FloatValue(d) : fallback,
            _ => throw NotFor("float", operand),
        };
    }

    /// <summary>JavaScript's <c>parseInt(s, 10)</c>: optional sign and the leading digits after whitespace.</summary>
    private static long? ParseIntPrefix(string s)
    {
        string t = TextRules.TrimStart(s);
        int i = 0;
        if (i < t.Length && t[i] is '+' or '-')
        {
            i++;
        }

        int digitsStart = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
        {
            i++;
        }

        if (i == digitsStart)
        {
            return null;
        }

        return long.TryParse(t[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;
    }

    /// <summary>JavaScript's <c>parseFloat</c>: the longest leading decimal number after whitespace.</summary>
    private static double? ParseFloatPrefix(string s)
    {
        string t = TextRules.TrimStart(s);
        for (int end = t.Length; end > 0; end--)
        {
            if (double.TryParse(t[..end], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                    CultureInfo.InvariantCulture, out double value))
            {
                return value;
            }
        }

        return t.StartsWith("Infinity", StringComparison.Ordinal) ? double.PositiveInfinity : null;
    }

    private static FloatValue Round(Value operand, Arguments args)
    {
        double value = operand switch
        {
            IntValue i => i.Value,
            FloatValue f => f.Value,
            _ => throw NotFor("round", operand),
        };
        int precision = args.Get(0, "precision") is IntValue p ? (int)Math.Clamp(p.Value, 0, 15) : 0;
        string method = StringArg(args, 1, "method", "common");
        double factor = Math.Pow(10, precision);
        double rounded = method switch
        {
            "common" => Math.Round(value * factor, MidpointRounding.AwayFromZero) / factor,
            "ceil" => Math.Ceiling(value * factor) / factor,
            "floor" => Math.Floor(value * factor) / factor,
            _ => throw new TemplateRuntimeError("round's method must be 'common', 'ceil' or 'floor'"),
        };
        return new FloatValue(rounded);
    }

    /// <summary>Orders two values: numbers (and booleans) numerically, strings case-insensitively unless asked, none with none.</summary>
    public static int Compare(Value a, Value b, bool caseSensitive)
    {
        if (a is NoneValue && b is NoneValue || a is UndefinedValue && b is UndefinedValue)
        {
            return 0;
        }

        if (a is IntValue or FloatValue or BoolValue && b is IntValue or FloatValue or BoolValue)
        {
            return Operators.ToDouble(a).CompareTo(Operators.ToDouble(b));
        }

        if (a is StringValue x && b is StringValue y)
        {
            return caseSensitive
                ? string.CompareOrdinal(x.Value, y.Value)
                : string.CompareOrdinal(x.Value.ToLowerInvariant(), y.Value.ToLowerInvariant());
        }

        throw new TemplateRuntimeError($"Cannot compare a {a.TypeName} with a {b.TypeName}");
    }

    /// <summary>A stable sort (List.Sort is not), so equal items keep their order as in Python and JavaScript.</summary>
    public static void StableSort(List<Value> items, Comparison<Value> comparison)
    {
        Value[] sorted = [.. items.Select((v, i) => (v, i)).OrderBy(p => p, Comparer<(Value v, int i)>.Create((p, q) =>
        {
            int c = comparison(p.v, q.v);
            return c != 0 ? c : p.i.CompareTo(q.i);
        })).Select(p => p.v)];
        items.Clear();
        items.AddRange(sorted);
    }

    private static ListValue Sort(Value operand, Arguments args)
    {
        bool reverse = BoolArg(args, 0, "reverse", false);
        bool caseSensitive = BoolArg(args, 1, "case_sensitive", false);
        string? attribute = args.Get(2, "attribute") switch
        {
            null or NoneValue => null,
            StringValue s => s.Value,
            IntValue i => i.Value.ToString(CultureInfo.InvariantCulture),
            Value other => throw new TemplateRuntimeError($"sort's attribute must be a string, got a {other.TypeName}"),
        };
        List<Value> items = [.. Iterate(operand)];
        StableSort(items, (a, b) =>
        {
            int result = Compare(attribute is null ? a : Attribute(a, attribute), attribute is null ? b : Attribute(b, attribute), caseSensitive);
            return reverse ? -result : result;
        });
        return new ListValue(items);
    }

    /// <summary>A dotted attribute path ("function.name", "items.0") of an item; undefined where missing.</summary>
    public static Value Attribute(Value item, string path)
    {
        Value value = item;
        foreach (string part in path.Split('.'))
        {
            value = value switch
            {
                DictValue or NamespaceValue => Members.Get(value, new StringValue(part)),
                ListValue list when int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index) =>
                    index < list.Items.Count ? list.Items[index] : UndefinedValue.Instance,
                _ => UndefinedValue.Instance,
            };
            if (value is UndefinedValue)
            {
                break;
            }
        }

        return value;
    }

    private static ListValue SelectAttribute(Value operand, Arguments args, bool select)
    {
        string attribute = args.Get(0, "attribute") is StringValue a ? a.Value
            : throw new TemplateRuntimeError($"{(select ? "selectattr" : "rejectattr")} needs an attribute name");
        string? test = args.Positional.Count > 1 && args.Positional[1] is StringValue t ? t.Value : null;
        var testArgs = new Arguments([.. args.Positional.Skip(2)], Arguments.None.Keywords);
        var output = new List<Value>();
        foreach (Value item in Iterate(operand))
        {
            Value value = Attribute(item, attribute);
            bool passed = test is null ? value.IsTruthy : Tests.Run(test, value, testArgs);
            if (passed == select)
            {
                output.Add(item);
            }
        }

        return new ListValue(output);
    }

    private static ListValue Select(Value operand, Arguments args, bool select)
    {
        string? test = args.Positional.Count > 0 && args.Positional[0] is StringValue t ? t.Value : null;
        var testArgs = new Arguments([.. args.Positional.Skip(1)], Arguments.None.Keywords);
        return new ListValue([.. Iterate(operand).Where(item => (test is null ? item.IsTruthy : Tests.Run(test, item, testArgs)) == select)]);
    }

    private static ListValue Map(Interpreter interpreter, Value operand, Arguments args, Scope scope, int offset)
    {
        if (args.Keywords.TryGetValue("attribute", out Value? attributeValue))
        {
            string attribute = attributeValue is StringValue a ? a.Value : throw new TemplateRuntimeError("map's attribute must be a string");
            Value? fallback = args.Keywords.TryGetValue("default", out Value? d) ? d : null;
            return new ListValue([.. Iterate(operand).Select(item =>
                Attribute(item, attribute) is var v && v is UndefinedValue && fallback is not null ? fallback : v)]);
        }

        if (args.Positional.Count > 0 && args.Positional[0] is StringValue filter)
        {
            var rest = new Arguments([.. args.Positional.Skip(1)], args.Keywords);
            return new ListValue([.. Iterate(operand).Select(item => Apply(interpreter, item, filter.Value, rest, scope, offset))]);
        }

        throw new TemplateRuntimeError("map needs attribute='name' or a filter name");
    }

    private static ListValue Batch(Value operand, Arguments args)
    {
        long size = args.Get(0, "linecount") is IntValue n && n.Value > 0 ? n.Value
            : throw new TemplateRuntimeError("batch needs a positive size");
        Value? fill = args.Get(1, "fill_with");
        var batches = new List<Value>();
        List<Value>? current = null;
        foreach (Value item in Iterate(operand))
        {
            current ??= [];
            current.Add(item);
            if (current.Count == size)
            {
                batches.Add(new ListValue(current));
                current = null;
            }
        }

        if (current is not null)
        {
            while (fill is not null && current.Count < size)
            {
                current.Add(fill);
            }

            batches.Add(new ListValue(current));
        }

        return new ListValue(batches);
    }
}
