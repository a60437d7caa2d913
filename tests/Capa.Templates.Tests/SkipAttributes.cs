namespace Capa.Templates.Tests;

/// <summary>A fact that is skipped, saying why, when a file of ../shared/reference/ is absent (a fresh clone).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresReferenceFactAttribute : FactAttribute
{
    public RequiresReferenceFactAttribute(string relativePath)
    {
        if (RepositoryPaths.SharedReference(relativePath) is null)
        {
            Skip = $"Skipped: the reference file ../shared/reference/{relativePath} is not present on this machine.";
        }
    }
}
