using Capa.Media.Processes;

namespace Capa.Media.Tests;

/// <summary>A fact that runs only where the named executables are on <c>PATH</c>, and says which one is missing otherwise.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolsFactAttribute : FactAttribute
{
    public RequiresToolsFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !ExecutableLocator.TryFind(t, out _)).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"Skipped: {string.Join(" and ", missing)} not found on PATH (Debian: apt-get install {string.Join(' ', missing.Select(Package).Distinct())}).";
        }
    }

    private static string Package(string tool) => tool switch
    {
        "ffprobe" => "ffmpeg",
        _ => tool,
    };
}

/// <summary>A theory that runs only where the named executables are on <c>PATH</c>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequiresToolsTheoryAttribute : TheoryAttribute
{
    public RequiresToolsTheoryAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !ExecutableLocator.TryFind(t, out _)).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"Skipped: {string.Join(" and ", missing)} not found on PATH (Debian: apt-get install {string.Join(' ', missing.Select(t => t == "ffprobe" ? "ffmpeg" : t).Distinct())}).";
        }
    }
}
