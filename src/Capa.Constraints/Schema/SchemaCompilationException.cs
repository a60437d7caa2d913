namespace Capa.Constraints.Schema;

/// <summary>A JSON schema could not be turned into a grammar; <see cref="Keyword"/> and <see cref="Path"/> say where.</summary>
public class SchemaCompilationException : Exception
{
    public SchemaCompilationException(string keyword, string path, string message)
        : base(message)
    {
        Keyword = keyword;
        Path = path;
    }

    /// <summary>The offending keyword, e.g. <c>oneOf</c>, or empty when the schema as a whole is at fault.</summary>
    public string Keyword { get; }

    /// <summary>A JSON pointer to the schema holding the keyword, e.g. <c>#/properties/tags/items</c>.</summary>
    public string Path { get; }
}

/// <summary>The schema uses a keyword (or a form of one) that constrained decoding does not implement.</summary>
public sealed class UnsupportedSchemaException(string keyword, string path, string message)
    : SchemaCompilationException(keyword, path, message);

/// <summary>The schema is malformed, unsatisfiable, or breaks a rule OpenAI enforces (strict mode, object root).</summary>
public sealed class InvalidSchemaException(string keyword, string path, string message)
    : SchemaCompilationException(keyword, path, message);
