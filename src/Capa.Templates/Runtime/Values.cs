namespace Capa.Templates.Runtime;

/// <summary>
/// A value inside the template interpreter. Every input (CLR objects, <c>JsonElement</c>, <c>JsonNode</c>) is converted
/// once into this model, so filters and operators have one set of types to handle.
/// </summary>
internal abstract class Value
{
    /// <summary>A short type name for error messages.</summary>
    public abstract string TypeName { get; }

    /// <summary>Python truthiness: empty strings, lists and mappings, zero, none and undefined are false.</summary>
    public virtual bool IsTruthy => true;
}

/// <summary>A missing variable, attribute or key: prints as nothing and is false (Jinja's default Undefined).</summary>
internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new();

    private UndefinedValue()
    {
    }

    public override string TypeName => "undefined";

    public override bool IsTruthy => false;
}

internal sealed class NoneValue : Value
{
    public static readonly NoneValue Instance = new();

    private NoneValue()
    {
    }

    public override string TypeName => "none";

    public override bool IsTruthy => false;
}

internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value) => Value = value;

    public bool Value { get; }

    public override string TypeName => "boolean";

    public override bool IsTruthy => Value;

    public static BoolValue Of(bool value) => value ? True : False;
}

internal sealed class IntValue : Value
{
    private static readonly IntValue[] Small = CreateSmall();

    private IntValue(long value) => Value = value;

    public long Value { get; }

    public override string TypeName => "integer";

    public override bool IsTruthy => Value != 0;

    public static IntValue Of(long value) => value is >= -1 and < 255 ? Small[value + 1] : new IntValue(value);

    private static IntValue[] CreateSmall()
    {
        var values = new IntValue[256];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = new IntValue(i - 1);
        }

        return values;
    }
}

internal sealed class FloatValue(double value) : Value
{
    public double Value { get; } = value;

    public override string TypeName => "float";

    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);
}

internal sealed class StringValue(string value) : Value
{
    public static readonly StringValue Empty = new(string.Empty);

    public string Value { get; } = value;

    public override string TypeName => "string";

    public override bool IsTruthy => Value.Length > 0;
}

/// <summary>A list, or a tuple when <see cref="IsTuple"/> (tuples come from <c>(a, b)</c> and <c>a, b</c> in the template).</summary>
internal sealed class ListValue(List<Value> items, bool isTuple = false) : Value
{
    public List<Value> Items { get; } = items;

    public bool IsTuple { get; } = isTuple;

    public override string TypeName => IsTuple ? "tuple" : "list";

    public override bool IsTruthy => Items.Count > 0;
}

/// <summary>A mapping with string keys, in insertion order (JSON objects keep their order).</summary>
internal sealed class DictValue(OrderedDictionary<string, Value> entries) : Value
{
    public DictValue()
        : this(new OrderedDictionary<string, Value>(StringComparer.Ordinal))
    {
    }

    public OrderedDictionary<string, Value> Entries { get; } = entries;

    public override string TypeName => "mapping";

    public override bool IsTruthy => Entries.Count > 0;
}

/// <summary>The object <c>namespace(...)</c> returns: attributes can be assigned with <c>{% set ns.x = ... %}</c>.</summary>
internal sealed class NamespaceValue(OrderedDictionary<string, Value> entries) : Value
{
    public OrderedDictionary<string, Value> Entries { get; } = entries;

    public override string TypeName => "namespace";
}

/// <summary>The arguments of a call: positional values, and keyword values by name.</summary>
internal sealed class Arguments(List<Value> positional, OrderedDictionary<string, Value> keywords)
{
    public static readonly Arguments None = new([], new OrderedDictionary<string, Value>(StringComparer.Ordinal));

    public List<Value> Positional { get; } = positional;

    public OrderedDictionary<string, Value> Keywords { get; } = keywords;

    /// <summary>Positional argument <paramref name="index"/>, else keyword <paramref name="name"/>, else null.</summary>
    public Value? Get(int index, string name) =>
        index < Positional.Count ? Positional[index] : Keywords.TryGetValue(name, out Value? value) ? value : null;
}

/// <summary>A callable: a global function, a bound method such as <c>text.split</c>, or a macro.</summary>
internal sealed class FunctionValue(string name, Func<Arguments, CallSite, Value> invoke) : Value
{
    public string Name { get; } = name;

    public Func<Arguments, CallSite, Value> Invoke { get; } = invoke;

    public override string TypeName => "function";
}

/// <summary>Where a function is called from: the scope of the call, the interpreter, and the offset for errors.</summary>
internal readonly record struct CallSite(Interpreter Interpreter, Scope Scope, int Offset);
