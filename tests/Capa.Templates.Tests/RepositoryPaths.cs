namespace Capa.Templates.Tests;

/// <summary>Finds the repository root (the folder with Capa.slnx) from the test binaries.</summary>
internal static class RepositoryPaths
{
    public static string? Root { get; } = FindRoot();

    private static string? FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>A file under ../shared/reference/ beside the repository, or null where that folder is absent.</summary>
    public static string? SharedReference(string relative)
    {
        if (Root is null)
        {
            return null;
        }

        string path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "reference", relative));
        return File.Exists(path) ? path : null;
    }
}
