namespace Capa.Templates.Runtime;

/// <summary>
/// Variables of one scope. Loops, macro calls and call blocks open a child scope; <c>set</c> writes to the current scope,
/// so assignments inside a loop do not leak out of it (use <c>namespace()</c> for that, as in Jinja).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, Value> _variables = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public void Set(string name, Value value) => _variables[name] = value;

    public Value Lookup(string name)
    {
        for (Scope? scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out Value? value))
            {
                return value;
            }
        }

        return UndefinedValue.Instance;
    }
}
