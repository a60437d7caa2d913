using System.Globalization;
using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>
/// Attribute and item access (<c>a.b</c>, <c>a['b']</c>, <c>a[0]</c>) and the methods templates call on values:
/// string methods (<c>strip</c>, <c>split</c>, <c>startswith</c>, ...), mapping methods (<c>get</c>, <c>items</c>, ...)
/// and <c>list.append</c>. Anything missing is undefined, never an error.
/// </summary>
internal static class Members
{
    public static Value Get(Value target, Value property)
    {
        switch (target)
        {
            case DictValue dict:
                if (property is StringValue key)
                {
                    return dict.Entries.TryGetValue(key.Value, out Value? value) ? value : DictMethod(dict, key.Value);
                }

                return UndefinedValue.Instance;
            case NamespaceValue ns:
                return property is StringValue attributeName && ns.Entries.TryGetValue(attributeName.Value, out Value? attribute)
                    ? attribute
                    : UndefinedValue.Instance;
            case ListValue list:
                return property switch
                {
                    IntValue index => At(list.Items, index.Value),
                    StringValue method => ListMember(list, method.Value),
                    _ => UndefinedValue.Instance,
                };
            case StringValue s:
                return property switch
                {
                    IntValue index => index.Value is var i && (i < 0 ? s.Value.Length + i : i) is long j && j >= 0 && j < s.Value.Length
                        ? new StringValue(s.Value[(int)j].ToString())
                        : UndefinedValue.Instance,
                    StringValue method => StringMember(s.Value, method.Value),
                    _ => UndefinedValue.Instance,
                };
            default:
                return UndefinedValue.Instance;
        }
    }

    private static Value At(List<Value> items, long index)
    {
        long i = index < 0 ? items.Count + index : index;
        return i >= 0 && i < items.Count ? items[(int)i] : UndefinedValue.Instance;
    }

    private static FunctionValue Method(string name, Func<Arguments, Value> body) => new(name, (args, _) => body(args));

    // ---- lists -----------------------------------------------------------------------------------------

    private static Value ListMember(ListValue list, string name) => name switch
    {
        "length" => IntValue.Of(list.Items.Count),
        "append" => Method("append", args =>
        {
            if (args.Positional.Count != 1)
            {
                throw new TemplateRuntimeError("append() takes exactly one argument");
            }

            list.Items.Add(args.Positional[0]);
            return NoneValue.Instance;
        }),
        _ => UndefinedValue.Instance,
    };

    // ---- mappings --------------------------------------------------------------------------------------

    private static Value DictMethod(DictValue dict, string name) => name switch
    {
        "get" => Method("get", args =>
        {
            Value key = args.Get(0, "key") ?? throw new TemplateRuntimeError("get() needs a key");
            if (key is not StringValue k)
            {
                throw new TemplateRuntimeError($"Mapping keys are strings, got a {key.TypeName}");
            }

            return dict.Entries.TryGetValue(k.Value, out Value? value) ? value : args.Get(1, "default") ?? NoneValue.Instance;
        }),
        "items" => Method("items", _ => Items(dict)),
        "keys" => Method("keys", _ => new ListValue([.. dict.Entries.Keys.Select(k => (Value)new StringValue(k))])),
        "values" => Method("values", _ => new ListValue([.. dict.Entries.Values])),
        "dictsort" => Method("dictsort", args => DictSort(dict, args)),
        _ => UndefinedValue.Instance,
    };

    public static ListValue Items(DictValue dict) =>
        new([.. dict.Entries.Select(p => (Value)new ListValue([new StringValue(p.Key), p.Value], isTuple: true))]);

    public static ListValue DictSort(DictValue dict, Arguments args)
    {
        bool caseSensitive = Filters.BoolArg(args, 0, "case_sensitive", false);
        string by = Filters.StringArg(args, 1, "by", "key");
        if (by is not "key" and not "value")
        {
            throw new TemplateRuntimeError("dictsort's 'by' must be 'key' or 'value'");
        }

        bool reverse = Filters.BoolArg(args, 2, "reverse", false);
        List<Value> pairs = [.. Items(dict).Items];
        int index = by == "key" ? 0 : 1;
        Filters.StableSort(pairs, (a, b) =>
        {
            int result = Filters.Compare(((ListValue)a).Items[index], ((ListValue)b).Items[index], caseSensitive);
            return reverse ? -result : result;
        });
        return new ListValue(pairs);
    }

    // ---- strings ---------------------------------------------------------------------------------------

    private static Value StringMember(string s, string name) => name switch
    {
        "length" => IntValue.Of(s.Length),
        "upper" => Method(name, _ => new StringValue(s.ToUpperInvariant())),
        "lower" => Method(name, _ => new StringValue(s.ToLowerInvariant())),
        "title" => Method(name, _ => new StringValue(TextRules.Title(s))),
        "capitalize" => Method(name, _ => new StringValue(TextRules.Capitalize(s))),
        "strip" => Method(name, args => new StringValue(Strip(s, args, start: true, end: true))),
        "lstrip" => Method(name, args => new StringValue(Strip(s, args, start: true, end: false))),
        "rstrip" => Method(name, args => new StringValue(Strip(s, args, start: false, end: true))),
        "startswith" => Method(name, args => BoolValue.Of(Affix(s, args, name, (text, affix) => text.StartsWith(affix, StringComparison.Ordinal)))),
        "endswith" => Method(name, args => BoolValue.Of(Affix(s, args, name, (text, affix) => text.EndsWith(affix, StringComparison.Ordinal)))),
        "split" => Method(name, args => Split(s, args)),
        "replace" => Method(name, args => new StringValue(Replace(s, args))),
        "find" => Method(name, args => IntValue.Of(s.IndexOf(RequiredString(args, 0, "sub", "find"), StringComparison.Ordinal))),
        "rfind" => Method(name, args => IntValue.Of(s.LastIndexOf(RequiredString(args, 0, "sub", "rfind"), StringComparison.Ordinal))),
        "count" => Method(name, args => IntValue.Of(Count(s, RequiredString(args, 0, "sub", "count")))),
        "join" => Method(name, args => new StringValue(string.Join(s, Filters.Iterate(args.Get(0, "iterable") ?? UndefinedValue.Instance)
            .Select(Operators.ToJsString)))),
        "isdigit" => Method(name, _ => BoolValue.Of(s.Length > 0 && s.All(char.IsDigit))),
        "isalpha" => Method(name, _ => BoolValue.Of(s.Length > 0 && s.All(char.IsLetter))),
        "isspace" => Method(name, _ => BoolValue.Of(s.Length > 0 && s.All(char.IsWhiteSpace))),
        "islower" => Method(name, _ => BoolValue.Of(s.Any(char.IsLetter) && s == s.ToLowerInvariant())),
        "isupper" => Method(name, _ => BoolValue.Of(s.Any(char.IsLetter) && s == s.ToUpperInvariant())),
        "format" => Method(name, args => new StringValue(Format(s, args))),
        _ => UndefinedValue.Instance,
    };

    private static string Strip(string s, Arguments args, bool start, bool end)
    {
        Value? chars = args.Get(0, "chars");
        if (chars is null or NoneValue)
        {
            return start && end ? TextRules.Trim(s) : start ? TextRules.TrimStart(s) : TextRules.TrimEnd(s);
        }

        if (chars is not StringValue set)
        {
            throw new TemplateRuntimeError($"strip() characters must be a string, got a {chars.TypeName}");
        }

        // Python's str.strip(chars): only the given characters are removed.
        return TextRules.Strip(s, set.Value, start, end);
    }

    private static bool Affix(string s, Arguments args, string name, Func<string, string, bool> test)
    {
        Value affix = args.Get(0, "prefix") ?? throw new TemplateRuntimeError($"{name}() needs an argument");
        return affix switch
        {
            StringValue single => test(s, single.Value),
            ListValue options => options.Items.Any(item => item is StringValue option
                ? test(s, option.Value)
                : throw new TemplateRuntimeError($"{name}() tuple items must be strings")),
            _ => throw new TemplateRuntimeError($"{name}() takes a string or a tuple of strings"),
        };
    }

    private static string RequiredString(Arguments args, int index, string name, string method) =>
        args.Get(index, name) is StringValue s ? s.Value : throw new TemplateRuntimeError($"{method}() needs a string argument");

    private static int Count(string s, string sub)
    {
        if (sub.Length == 0)
        {
            return s.Length + 1;
        }

        int count = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Python's <c>str.split(sep=None, maxsplit=-1)</c>.</summary>
    private static ListValue Split(string s, Arguments args)
    {
        Value separator = args.Get(0, "sep") ?? NoneValue.Instance;
        Value maxArg = args.Get(1, "maxsplit") ?? IntValue.Of(-1);
        if (maxArg is not IntValue maxValue)
        {
            throw new TemplateRuntimeError("split() maxsplit must be an integer");
        }

        long max = maxValue.Value;
        var parts = new List<Value>();
        if (separator is NoneValue)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && TextRules.IsWhitespace(s[i]))
                {
                    i++;
                }

                if (i >= s.Length)
                {
                    break;
                }

                if (max >= 0 && parts.Count >= max)
                {
                    parts.Add(new StringValue(s[i..]));
                    break;
                }

                int start = i;
                while (i < s.Length && !TextRules.IsWhitespace(s[i]))
                {
                    i++;
                }

                parts.Add(new StringValue(s[start..i]));
            }

            return new ListValue(parts);
        }

        if (separator is not StringValue sep)
        {
            throw new TemplateRuntimeError("split() separator must be a string or none");
        }

        if (sep.Value.Length == 0)
        {
            throw new TemplateRuntimeError("split() separator is empty");
        }

        int from = 0;
        while (max < 0 || parts.Count < max)
        {
            int at = s.IndexOf(sep.Value, from, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            parts.Add(new StringValue(s[from..at]));
            from = at + sep.Value.Length;
        }

        parts.Add(new StringValue(s[from..]));
        return new ListValue(parts);
    }

    /// <summary>Python's <c>str.replace(old, new, count=-1)</c>.</summary>
    public static string Replace(string s, Arguments args)
    {
        if (args.Get(0, "old") is not StringValue oldValue || args.Get(1, "new") is not StringValue newValue)
        {
            throw new TemplateRuntimeError("replace() needs two string arguments");
        }

        long count = (args.Get(2, "count") ?? NoneValue.Instance) switch
        {
            IntValue i => i.Value,
            NoneValue => -1,
            _ => throw new TemplateRuntimeError("replace() count must be an integer"),
        };
        if (count == 0)
        {
            return s;
        }

        var sb = new StringBuilder();
        long done = 0;
        if (oldValue.Value.Length == 0)
        {
            List<string> chars = TextRules.CodePoints(s);
            for (int i = 0; i <= chars.Count; i++)
            {
                if (count < 0 || done < count)
                {
                    sb.Append(newValue.Value);
                    done++;
                }

                if (i < chars.Count)
                {
                    sb.Append(chars[i]);
                }
            }

            return sb.ToString();
        }

        int from = 0;
        while (count < 0 || done < count)
        {
            int at = s.IndexOf(oldValue.Value, from, StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            sb.Append(s, from, at - from).Append(newValue.Value);
            from = at + oldValue.Value.Length;
            done++;
        }

        sb.Append(s, from, s.Length - from);
        return sb.ToString();
    }

    /// <summary>Python's <c>str.format</c> for plain fields: <c>{}</c>, <c>{0}</c>, <c>{name}</c>, and <c>{{</c> / <c>}}</c>.</summary>
    private static string Format(string s, Arguments args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{')
            {
                sb.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < s.Length && s[i + 1] == '}')
            {
                sb.Append('}');
                i++;
            }
            else if (c == '{')
            {
                int close = s.IndexOf('}', i);
                if (close < 0)
                {
                    throw new TemplateRuntimeError("format(): single '{' in format string");
                }

                string field = s[(i + 1)..close];
                Value value;
                if (field.Length == 0)
                {
                    value = auto < args.Positional.Count ? args.Positional[auto++] : throw new TemplateRuntimeError("format(): not enough arguments");
                }
                else if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    value = index < args.Positional.Count ? args.Positional[index] : throw new TemplateRuntimeError("format(): index out of range");
                }
                else
                {
                    value = args.Keywords.TryGetValue(field, out Value? named) ? named : throw new TemplateRuntimeError($"format(): no argument '{field}'");
                }

                sb.Append(Formatting.ToOutput(value));
                i = close;
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
