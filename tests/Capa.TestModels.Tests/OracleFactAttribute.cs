namespace Capa.TestModels.Tests;

/// <summary>A fact skipped, with the reason, where node or the oracle's node_modules are missing.</summary>
public sealed class OracleFactAttribute : FactAttribute
{
    public OracleFactAttribute()
    {
        if (Oracle.UnavailableReason is { } reason)
        {
            Skip = "Oracle unavailable: " + reason + ".";
        }
    }
}
