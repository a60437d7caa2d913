namespace Capa.Templates.Runtime;

/// <summary>The names every template sees: constants, <c>namespace</c>, <c>range</c>, <c>raise_exception</c>, <c>strftime_now</c>.</summary>
internal static class Globals
{
    private const int MaxRangeLength = 1_000_000;

    public static void Register(Scope scope)
    {
        scope.Set("true", BoolValue.True);
        scope.Set("false", BoolValue.False);
        scope.Set("none", NoneValue.Instance);
        scope.Set("True", BoolValue.True);
        scope.Set("False", BoolValue.False);
        scope.Set("None", NoneValue.Instance);
        scope.Set("namespace", new FunctionValue("namespace", (args, _) => Namespace(args)));
        scope.Set("range", new FunctionValue("range", (args, _) => Range(args)));
        scope.Set("raise_exception", new FunctionValue("raise_exception", (args, _) =>
            throw new RaisedByTemplateError(args.Positional.Count > 0 ? Operators.ToJsString(args.Positional[0]) : string.Empty)));
        scope.Set("strftime_now", new FunctionValue("strftime_now", (args, site) =>
        {
            if (args.Get(0, "format") is not StringValue format)
            {
                throw new TemplateRuntimeError("strftime_now() needs a format string");
            }

            return new StringValue(Strftime.Format(site.Interpreter.Clock.GetLocalNow(), format.Value));
        }));
    }

    private static NamespaceValue Namespace(Arguments args)
    {
        if (args.Positional.Count > 1)
        {
            throw new TemplateRuntimeError($"namespace() takes at most 1 positional argument, got {args.Positional.Count}");
        }

        var entries = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        if (args.Positional.Count == 1)
        {
            switch (args.Positional[0])
            {
                case DictValue dict:
                    foreach (KeyValuePair<string, Value> pair in dict.Entries)
                    {
                        entries[pair.Key] = pair.Value;
                    }

                    break;
                case ListValue pairs:
                    foreach (Value pair in pairs.Items)
                    {
                        if (pair is not ListValue { Items.Count: 2 } kv || kv.Items[0] is not StringValue key)
                        {
                            throw new TemplateRuntimeError("namespace() expects a mapping or a list of (name, value) pairs");
                        }

                        entries[key.Value] = kv.Items[1];
                    }

                    break;
                default:
                    throw new TemplateRuntimeError($"namespace() expects a mapping, got a {args.Positional[0].TypeName}");
            }
        }

        foreach (KeyValuePair<string, Value> pair in args.Keywords)
        {
            entries[pair.Key] = pair.Value;
        }

        return new NamespaceValue(entries);
    }

    private static ListValue Range(Arguments args)
    {
        long[] numbers = [.. args.Positional.Select(v => v is IntValue i ? i.Value
            : throw new TemplateRuntimeError($"range() takes integers, got a {v.TypeName}"))];
        (long start, long stop, long step) = numbers.Length switch
        {
            1 => (0L, numbers[0], 1L),
            2 => (numbers[0], numbers[1], 1L),
            3 => (numbers[0], numbers[1], numbers[2]),
            _ => throw new TemplateRuntimeError("range() takes 1 to 3 integers"),
        };
        if (step == 0)
        {
            throw new TemplateRuntimeError("range() step must not be zero");
        }

        var items = new List<Value>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= MaxRangeLength)
            {
                throw new TemplateRuntimeError($"range() is limited to {MaxRangeLength} items");
            }

            items.Add(IntValue.Of(i));
        }

        return new ListValue(items);
    }
}
