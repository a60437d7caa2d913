namespace Capa.Constraints;

/// <summary>
/// The version of the constrained-decoding algorithm: grammars, schema compilation and token masks. It is an input of
/// <c>system_fingerprint</c>, so bump it whenever a change can alter which tokens a grammar allows.
/// </summary>
public static class ConstraintsVersion
{
    /// <summary>The current version.</summary>
    public const string Value = "json-pda/v2";
}
