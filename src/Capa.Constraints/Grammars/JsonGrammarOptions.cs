namespace Capa.Constraints.Grammars;

/// <summary>How JSON grammars lay out their output.</summary>
public sealed record JsonGrammarOptions
{
    /// <summary>The defaults: runs of up to 16 whitespace bytes, up to 2 before the value.</summary>
    public static JsonGrammarOptions Default { get; } = new();

    /// <summary>
    /// The most consecutive whitespace bytes between tokens inside objects and arrays. Bounding runs is what
    /// guarantees that a model fond of blanks still finishes. 16 fits two-space pretty-printing to depth 7.
    /// </summary>
    public int MaxWhitespaceRun { get; init; } = 16;

    /// <summary>The most whitespace bytes before the value.</summary>
    public int MaxLeadingWhitespace { get; init; } = 2;

    /// <summary>Fraction digits a schema <c>number</c> may have (schema numbers have no exponent).</summary>
    public int MaxFractionDigits { get; init; } = 6;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(MaxWhitespaceRun);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxLeadingWhitespace);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxFractionDigits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxFractionDigits, 10);
    }
}

/// <summary>How <see cref="JsonGrammar.FromSchema"/> reads a schema.</summary>
public sealed record JsonSchemaOptions
{
    /// <summary>Output layout.</summary>
    public JsonGrammarOptions Format { get; init; } = JsonGrammarOptions.Default;

    /// <summary>
    /// OpenAI's strict mode: every object must say <c>additionalProperties: false</c> and list every property
    /// in <c>required</c>. Without it, optional properties may be left out of the output.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Whether the root must be an object schema (response_format json_schema and tool parameters).</summary>
    public bool RequireObjectRoot { get; init; } = true;

    /// <summary>What error messages call the schema, e.g. <c>response_format 'weather'</c> or <c>function 'get_weather'</c>.</summary>
    public string Subject { get; init; } = "response_format 'schema'";
}
