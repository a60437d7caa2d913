namespace Capa.Templates.Runtime;

/// <summary>The tests of <c>x is name</c> / <c>x is not name</c>.</summary>
internal static class Tests
{
    public static bool Run(string name, Value operand, Arguments args)
    {
        Value Arg() => args.Positional.Count > 0 ? args.Positional[0]
            : throw new TemplateRuntimeError($"The test '{name}' needs an argument");

        return name switch
        {
            "defined" => operand is not UndefinedValue,
            "undefined" => operand is UndefinedValue,
            "none" => operand is NoneValue,
            "boolean" => operand is BoolValue,
            "true" => operand is BoolValue { Value: true },
            "false" => operand is BoolValue { Value: false },
            "string" => operand is StringValue,
            "number" => operand is IntValue or FloatValue,
            "integer" => operand is IntValue,
            "float" => operand is FloatValue,
            "mapping" => operand is DictValue,
            "iterable" => operand is ListValue or StringValue or DictValue,
            "sequence" => operand is ListValue or StringValue or DictValue,
            "callable" => operand is FunctionValue,
            "lower" => operand is StringValue s && s.Value == s.Value.ToLowerInvariant(),
            "upper" => operand is StringValue u && u.Value == u.Value.ToUpperInvariant(),
            "odd" => Integer(operand, name) % 2 != 0,
            "even" => Integer(operand, name) % 2 == 0,
            "divisibleby" => Arg() is IntValue d && d.Value != 0
                ? Integer(operand, name) % d.Value == 0
                : throw new TemplateRuntimeError("divisibleby needs a non-zero integer"),
            "equalto" or "eq" or "==" => Operators.LooseEquals(operand, Arg()),
            "ne" or "!=" => !Operators.LooseEquals(operand, Arg()),
            "sameas" => Operators.StrictEquals(operand, Arg()),
            "lt" or "lessthan" or "<" => Compare(operand, Arg(), "<"),
            "le" or "<=" => Compare(operand, Arg(), "<="),
            "gt" or "greaterthan" or ">" => Compare(operand, Arg(), ">"),
            "ge" or ">=" => Compare(operand, Arg(), ">="),
            "in" => Operators.Binary("in", operand, Arg()).IsTruthy,
            _ => throw new TemplateRuntimeError($"Unknown test '{name}'"),
        };
    }

    private static long Integer(Value value, string test) =>
        value is IntValue i ? i.Value : throw new TemplateRuntimeError($"The test '{test}' needs an integer, got a {value.TypeName}");

    private static bool Compare(Value a, Value b, string op) => Operators.Binary(op, a, b).IsTruthy;
}
