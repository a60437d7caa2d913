namespace Capa.Templates.Runtime;

/// <summary>A rendering error without a position yet; the interpreter adds the position of the node being evaluated.</summary>
internal sealed class TemplateRuntimeError(string message) : Exception(message);

/// <summary>What <c>raise_exception(message)</c> throws: the message must reach the caller unchanged.</summary>
internal sealed class RaisedByTemplateError(string message) : Exception(message);

/// <summary><c>{% break %}</c> and <c>{% continue %}</c> unwind to the nearest loop.</summary>
internal sealed class LoopControl(bool isBreak) : Exception
{
    public bool IsBreak { get; } = isBreak;
}
