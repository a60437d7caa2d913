using System.Globalization;

namespace Capa.Templates.Runtime;

/// <summary>Binary operators and equality, with the semantics of the reference renderer (plus Python's string comparison and repetition).</summary>
internal static class Operators
{
    public static Value Binary(string op, Value left, Value right)
    {
        switch (op)
        {
            case "==":
                return BoolValue.Of(LooseEquals(left, right));
            case "!=":
                return BoolValue.Of(!LooseEquals(left, right));
        }

        if (left is UndefinedValue || right is UndefinedValue)
        {
            if (right is UndefinedValue && op is "in" or "not in")
            {
                return BoolValue.Of(op == "not in");
            }

            throw new TemplateRuntimeError($"Cannot apply '{op}' to an undefined value");
        }

        if (left is NoneValue || right is NoneValue)
        {
            throw new TemplateRuntimeError($"Cannot apply '{op}' to none");
        }

        if (op == "~")
        {
            return new StringValue(ToJsString(left) + ToJsString(right));
        }

        if (IsNumber(left, out double a, out bool leftFloat, allowBool: op == "**") &&
            IsNumber(right, out double b, out bool rightFloat, allowBool: op == "**"))
        {
            return Arithmetic(op, left, right, a, b, leftFloat || rightFloat);
        }

        if (left is ListValue leftList && right is ListValue rightList && op == "+")
        {
            return new ListValue([.. leftList.Items, .. rightList.Items]);
        }

        if (right is ListValue haystack && op is "in" or "not in")
        {
            bool found = haystack.Items.Exists(item => StrictEquals(item, left));
            return BoolValue.Of(op == "in" ? found : !found);
        }

        if ((left is StringValue || right is StringValue) && op == "+")
        {
            return new StringValue(ToJsString(left) + ToJsString(right));
        }

        if (left is StringValue ls && right is StringValue rs)
        {
            switch (op)
            {
                case "in":
                    return BoolValue.Of(rs.Value.Contains(ls.Value, StringComparison.Ordinal));
                case "not in":
                    return BoolValue.Of(!rs.Value.Contains(ls.Value, StringComparison.Ordinal));
                case "<":
                    return BoolValue.Of(string.CompareOrdinal(ls.Value, rs.Value) < 0);
                case "<=":
                    return BoolValue.Of(string.CompareOrdinal(ls.Value, rs.Value) <= 0);
                case ">":
                    return BoolValue.Of(string.CompareOrdinal(ls.Value, rs.Value) > 0);
                case ">=":
                    return BoolValue.Of(string.CompareOrdinal(ls.Value, rs.Value) >= 0);
            }
        }

        if (left is StringValue key && right is DictValue dict && op is "in" or "not in")
        {
            bool has = dict.Entries.ContainsKey(key.Value);
            return BoolValue.Of(op == "in" ? has : !has);
        }

        if (op == "*" && (left, right) is (StringValue or ListValue, IntValue) or (IntValue, StringValue or ListValue))
        {
            return Repeat(left is IntValue ? right : left, ((IntValue)(left is IntValue ? left : right)).Value);
        }

        throw new TemplateRuntimeError($"Unsupported operator '{op}' between a {left.TypeName} and a {right.TypeName}");
    }

    private static Value Repeat(Value value, long times)
    {
        if (times * (value is StringValue s ? s.Value.Length : ((ListValue)value).Items.Count) > 16 * 1024 * 1024)
        {
            throw new TemplateRuntimeError("Repetition result is too large");
        }

        if (value is StringValue str)
        {
            return new StringValue(times <= 0 ? string.Empty : string.Concat(Enumerable.Repeat(str.Value, (int)times)));
        }

        var items = new List<Value>();
        for (long i = 0; i < times; i++)
        {
            items.AddRange(((ListValue)value).Items);
        }

        return new ListValue(items);
    }

    private static bool IsNumber(Value value, out double number, out bool isFloat, bool allowBool)
    {
        switch (value)
        {
            case IntValue i:
                number = i.Value;
                isFloat = false;
                return true;
            case FloatValue f:
                number = f.Value;
                isFloat = true;
                return true;
            case BoolValue b when allowBool:
                number = b.Value ? 1 : 0;
                isFloat = false;
                return true;
            default:
                number = 0;
                isFloat = false;
                return false;
        }
    }

    private static Value Arithmetic(string op, Value left, Value right, double a, double b, bool isFloat)
    {
        bool ints = !isFloat && left is not FloatValue && right is not FloatValue;
        long x = left is IntValue li ? li.Value : (long)a, y = right is IntValue ri ? ri.Value : (long)b;
        switch (op)
        {
            case "+":
                return ints ? IntOrFloat(() => checked(x + y), a + b) : new FloatValue(a + b);
            case "-":
                return ints ? IntOrFloat(() => checked(x - y), a - b) : new FloatValue(a - b);
            case "*":
                return ints ? IntOrFloat(() => checked(x * y), a * b) : new FloatValue(a * b);
            case "/":
                return b == 0 ? throw new TemplateRuntimeError("Division by zero") : new FloatValue(a / b);
            case "//":
                if (b == 0)
                {
                    throw new TemplateRuntimeError("Division by zero");
                }

                return ints ? IntValue.Of((long)Math.Floor((double)x / y)) : new FloatValue(Math.Floor(a / b));
            case "%":
                // The reference renderer uses JavaScript's remainder (the sign follows the dividend).
                if (b == 0)
                {
                    throw new TemplateRuntimeError("Modulo by zero");
                }

                return ints ? IntValue.Of(x % y) : new FloatValue(a % b);
            case "**":
            {
                if (a == 0 && b < 0)
                {
                    throw new TemplateRuntimeError("0 cannot be raised to a negative power");
                }

                double result = Math.Pow(a, b);
                if (!double.IsFinite(result))
                {
                    throw new TemplateRuntimeError("The power is not a finite real number");
                }

                return ints && b >= 0 && Math.Abs(result) < 9007199254740992d ? IntValue.Of((long)result) : new FloatValue(result);
            }

            case "<":
                return BoolValue.Of(a < b);
            case ">":
                return BoolValue.Of(a > b);
            case "<=":
                return BoolValue.Of(a <= b);
            case ">=":
                return BoolValue.Of(a >= b);
            case "in" or "not in":
                throw new TemplateRuntimeError($"Cannot test membership in a {right.TypeName}");
            default:
                throw new TemplateRuntimeError($"Unsupported operator '{op}' between numbers");
        }
    }

    private static Value IntOrFloat(Func<long> exact, double approximate)
    {
        try
        {
            return IntValue.Of(exact());
        }
        catch (OverflowException)
        {
            return new FloatValue(approximate);
        }
    }

    /// <summary>JavaScript's loose equality (<c>==</c>) on the underlying values, as the reference renderer compares.</summary>
    public static bool LooseEquals(Value a, Value b)
    {
        while (true)
        {
            switch (a, b)
            {
                case (NoneValue or UndefinedValue, NoneValue or UndefinedValue):
                    return true;
                case (NoneValue or UndefinedValue, _) or (_, NoneValue or UndefinedValue):
                    return false;
                case (StringValue x, StringValue y):
                    return string.Equals(x.Value, y.Value, StringComparison.Ordinal);
                case (BoolValue x, BoolValue y):
                    return x.Value == y.Value;
                case (BoolValue x, _):
                    a = IntValue.Of(x.Value ? 1 : 0);
                    continue;
                case (_, BoolValue y):
                    b = IntValue.Of(y.Value ? 1 : 0);
                    continue;
                case (IntValue or FloatValue, IntValue or FloatValue):
                    return ToDouble(a) == ToDouble(b);
                case (IntValue or FloatValue, StringValue s):
                    return ToDouble(a) == JsToNumber(s.Value);
                case (StringValue s, IntValue or FloatValue):
                    return JsToNumber(s.Value) == ToDouble(b);
                default:
                    return SameReference(a, b);
            }
        }
    }

    /// <summary>JavaScript's strict equality (<c>===</c>), used for membership in lists.</summary>
    public static bool StrictEquals(Value a, Value b) => (a, b) switch
    {
        (NoneValue, NoneValue) or (UndefinedValue, UndefinedValue) => true,
        (StringValue x, StringValue y) => string.Equals(x.Value, y.Value, StringComparison.Ordinal),
        (BoolValue x, BoolValue y) => x.Value == y.Value,
        (IntValue or FloatValue, IntValue or FloatValue) => ToDouble(a) == ToDouble(b),
        _ => SameReference(a, b),
    };

    private static bool SameReference(Value a, Value b) => (a, b) switch
    {
        (ListValue x, ListValue y) => ReferenceEquals(x.Items, y.Items),
        (DictValue x, DictValue y) => ReferenceEquals(x.Entries, y.Entries),
        (NamespaceValue x, NamespaceValue y) => ReferenceEquals(x.Entries, y.Entries),
        _ => ReferenceEquals(a, b),
    };

    public static double ToDouble(Value value) => value switch
    {
        IntValue i => i.Value,
        FloatValue f => f.Value,
        BoolValue b => b.Value ? 1 : 0,
        _ => double.NaN,
    };

    private static double JsToNumber(string s)
    {
        string trimmed = TextRules.Trim(s);
        if (trimmed.Length == 0)
        {
            return 0;
        }

        return double.TryParse(trimmed, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out double value) ? value : double.NaN;
    }

    /// <summary>How the reference renderer turns a value into text for <c>~</c>, <c>+</c> with a string, and <c>join</c>.</summary>
    public static string ToJsString(Value value) => value switch
    {
        StringValue s => s.Value,
        IntValue i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatValue f => Formatting.JsNumber(f.Value),
        BoolValue b => b.Value ? "true" : "false",
        NoneValue => "null",
        UndefinedValue => "undefined",
        ListValue list => string.Join(",", list.Items.Select(ElementString)),
        DictValue or NamespaceValue => "[object Map]",
        FunctionValue fn => $"[function {fn.Name}]",
        _ => string.Empty,
    };

    private static string ElementString(Value value) => value switch
    {
        NoneValue => "null",
        UndefinedValue => "undefined",
        _ => Formatting.ToOutput(value),
    };
}
