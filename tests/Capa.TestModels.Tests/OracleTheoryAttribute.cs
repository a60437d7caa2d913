namespace Capa.TestModels.Tests;

/// <summary>A theory skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class OracleTheoryAttribute : TheoryAttribute
{
    public OracleTheoryAttribute()
    {
        if (Oracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}
