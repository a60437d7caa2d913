namespace Capa.Templates;

/// <summary>What went wrong in a chat template.</summary>
public enum TemplateErrorKind
{
    /// <summary>The template text is not valid (found by <see cref="ChatTemplate.Parse"/>).</summary>
    Syntax,

    /// <summary>Rendering failed: a wrong type, an unknown filter, a call of something that is not a function, ...</summary>
    Runtime,

    /// <summary>The template itself called <c>raise_exception(message)</c>; <see cref="Exception.Message"/> is that message, unchanged.</summary>
    Raised,

    /// <summary>The output grew past the length the caller allowed (<see cref="ChatTemplate.RenderMarked"/>'s <c>maxOutputChars</c>); rendering stopped there.</summary>
    OutputLimit,
}

/// <summary>
/// A chat template could not be parsed or rendered. Syntax and runtime messages end with the position in the template
/// source (also in <see cref="Line"/> and <see cref="Column"/>); for <see cref="TemplateErrorKind.Raised"/> the message is
/// exactly the template's own text, so that callers can quote it to the client (OpenAI's 400 error).
/// </summary>
public sealed class TemplateException : Exception
{
    /// <summary>Creates an exception with no position.</summary>
    public TemplateException(string message)
        : this(message, TemplateErrorKind.Runtime, null, null)
    {
    }

    /// <summary>Creates an exception with an inner cause.</summary>
    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = TemplateErrorKind.Runtime;
    }

    /// <summary>Creates an exception of <paramref name="kind"/> at an optional 1-based position in the template source.</summary>
    public TemplateException(string message, TemplateErrorKind kind, int? line, int? column)
        : base(message)
    {
        Kind = kind;
        Line = line;
        Column = column;
    }

    /// <summary>Creates an exception with no position (for serializers and the default constructor pattern).</summary>
    public TemplateException()
        : this("The chat template failed.")
    {
    }

    /// <summary>Whether the template is malformed, failed while rendering, or raised the error itself.</summary>
    public TemplateErrorKind Kind { get; }

    /// <summary>1-based line in the template source where the error was found, when known.</summary>
    public int? Line { get; }

    /// <summary>1-based column (in UTF-16 code units) in the template source, when known.</summary>
    public int? Column { get; }
}
