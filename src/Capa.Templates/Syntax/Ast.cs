using Capa.Templates.Runtime;

namespace Capa.Templates.Syntax;

/// <summary>A node of the template syntax tree; <see cref="Offset"/> is where it starts in the preprocessed text.</summary>
internal abstract class Node(int offset)
{
    public int Offset { get; } = offset;
}

// ---- Statements -------------------------------------------------------------------------------------------

/// <summary>Literal text between tags.</summary>
internal sealed class TextNode(int offset, string text) : Node(offset)
{
    public string Text { get; } = text;
}

/// <summary><c>{{ expression }}</c>.</summary>
internal sealed class OutputNode(int offset, Expr expression) : Node(offset)
{
    public Expr Expression { get; } = expression;
}

internal sealed class IfNode(int offset, Expr test, Node[] body, Node[] alternate) : Node(offset)
{
    public Expr Test { get; } = test;

    public Node[] Body { get; } = body;

    /// <summary>The <c>else</c> block; an <c>elif</c> is a nested <see cref="IfNode"/> here.</summary>
    public Node[] Alternate { get; } = alternate;
}

internal sealed class ForNode(int offset, Expr target, Expr iterable, Expr? condition, Node[] body, Node[] elseBody) : Node(offset)
{
    /// <summary>An <see cref="IdentifierExpr"/> or a <see cref="TupleExpr"/> of identifiers.</summary>
    public Expr Target { get; } = target;

    public Expr Iterable { get; } = iterable;

    /// <summary>The <c>if</c> filter of <c>for x in xs if cond</c>.</summary>
    public Expr? Condition { get; } = condition;

    public Node[] Body { get; } = body;

    public Node[] ElseBody { get; } = elseBody;
}

/// <summary><c>{% set target = value %}</c>, or the block form <c>{% set target %}body{% endset %}</c>.</summary>
internal sealed class SetNode(int offset, Expr target, Expr? value, Node[] body) : Node(offset)
{
    public Expr Target { get; } = target;

    public Expr? Value { get; } = value;

    public Node[] Body { get; } = body;
}

internal sealed class MacroNode(int offset, string name, Expr[] parameters, Node[] body) : Node(offset)
{
    public string Name { get; } = name;

    /// <summary><see cref="IdentifierExpr"/> or <see cref="KeywordArgExpr"/> (a parameter with a default).</summary>
    public Expr[] Parameters { get; } = parameters;

    public Node[] Body { get; } = body;
}

/// <summary><c>{% call(args) macro(...) %}body{% endcall %}</c>.</summary>
internal sealed class CallBlockNode(int offset, CallExpr call, Expr[] callerParameters, Node[] body) : Node(offset)
{
    public CallExpr Call { get; } = call;

    public Expr[] CallerParameters { get; } = callerParameters;

    public Node[] Body { get; } = body;
}

/// <summary><c>{% filter name(args) %}body{% endfilter %}</c>.</summary>
internal sealed class FilterBlockNode(int offset, string filter, Expr[]? arguments, Node[] body) : Node(offset)
{
    public string Filter { get; } = filter;

    public Expr[]? Arguments { get; } = arguments;

    public Node[] Body { get; } = body;
}

internal sealed class BreakNode(int offset) : Node(offset);

internal sealed class ContinueNode(int offset) : Node(offset);

// ---- Expressions ------------------------------------------------------------------------------------------

internal abstract class Expr(int offset) : Node(offset);

/// <summary>A number or string literal, evaluated once at parse time.</summary>
internal sealed class LiteralExpr(int offset, Value value) : Expr(offset)
{
    public Value Value { get; } = value;
}

internal sealed class IdentifierExpr(int offset, string name) : Expr(offset)
{
    public string Name { get; } = name;
}

internal sealed class ListExpr(int offset, Expr[] items) : Expr(offset)
{
    public Expr[] Items { get; } = items;
}

internal sealed class TupleExpr(int offset, Expr[] items) : Expr(offset)
{
    public Expr[] Items { get; } = items;
}

internal sealed class DictExpr(int offset, (Expr Key, Expr Value)[] entries) : Expr(offset)
{
    public (Expr Key, Expr Value)[] Entries { get; } = entries;
}

/// <summary><c>object.name</c> (not computed) or <c>object[expression]</c> (computed).</summary>
internal sealed class MemberExpr(int offset, Expr target, Expr property, bool computed) : Expr(offset)
{
    public Expr Target { get; } = target;

    public Expr Property { get; } = property;

    public bool Computed { get; } = computed;
}

internal sealed class SliceExpr(int offset, Expr? start, Expr? stop, Expr? step) : Expr(offset)
{
    public Expr? Start { get; } = start;

    public Expr? Stop { get; } = stop;

    public Expr? Step { get; } = step;
}

internal sealed class CallExpr(int offset, Expr callee, Expr[] arguments) : Expr(offset)
{
    public Expr Callee { get; } = callee;

    public Expr[] Arguments { get; } = arguments;
}

/// <summary><c>name=value</c> in a call, or a parameter with a default in a macro.</summary>
internal sealed class KeywordArgExpr(int offset, string name, Expr value) : Expr(offset)
{
    public string Name { get; } = name;

    public Expr Value { get; } = value;
}

/// <summary><c>*list</c> in a call.</summary>
internal sealed class SpreadExpr(int offset, Expr value) : Expr(offset)
{
    public Expr Value { get; } = value;
}

/// <summary><c>**mapping</c> in a call.</summary>
internal sealed class KeywordSpreadExpr(int offset, Expr value) : Expr(offset)
{
    public Expr Value { get; } = value;
}

internal sealed class BinaryExpr(int offset, string op, Expr left, Expr right) : Expr(offset)
{
    public string Operator { get; } = op;

    public Expr Left { get; } = left;

    public Expr Right { get; } = right;
}

internal sealed class UnaryExpr(int offset, string op, Expr operand) : Expr(offset)
{
    public string Operator { get; } = op;

    public Expr Operand { get; } = operand;
}

/// <summary><c>operand | name</c> or <c>operand | name(arguments)</c> (<see cref="Arguments"/> is null without parentheses).</summary>
internal sealed class FilterExpr(int offset, Expr operand, string name, Expr[]? arguments) : Expr(offset)
{
    public Expr Operand { get; } = operand;

    public string Name { get; } = name;

    public Expr[]? Arguments { get; } = arguments;
}

/// <summary><c>operand is [not] name [argument]</c>.</summary>
internal sealed class TestExpr(int offset, Expr operand, bool negate, string name, Expr[] arguments) : Expr(offset)
{
    public Expr Operand { get; } = operand;

    public bool Negate { get; } = negate;

    public string Name { get; } = name;

    public Expr[] Arguments { get; } = arguments;
}

/// <summary><c>a if condition</c> with no <c>else</c>: undefined when the condition is false.</summary>
internal sealed class SelectExpr(int offset, Expr value, Expr condition) : Expr(offset)
{
    public Expr Value { get; } = value;

    public Expr Condition { get; } = condition;
}

internal sealed class TernaryExpr(int offset, Expr condition, Expr whenTrue, Expr whenFalse) : Expr(offset)
{
    public Expr Condition { get; } = condition;

    public Expr WhenTrue { get; } = whenTrue;

    public Expr WhenFalse { get; } = whenFalse;
}
