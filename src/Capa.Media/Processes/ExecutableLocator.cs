using System.Diagnostics.CodeAnalysis;

namespace Capa.Media.Processes;

/// <summary>Finds an executable the way a shell would, without running a shell: a path as given, or a name on <c>PATH</c>.</summary>
public static class ExecutableLocator
{
    /// <summary>
    /// Resolves <paramref name="nameOrPath"/>: a value with a directory separator must be an existing file; a bare
    /// name is looked up in each <c>PATH</c> directory in order.
    /// </summary>
    public static bool TryFind(string nameOrPath, [NotNullWhen(true)] out string? fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        fullPath = null;
        if (nameOrPath.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || nameOrPath.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            if (IsExecutableFile(nameOrPath))
            {
                fullPath = Path.GetFullPath(nameOrPath);
                return true;
            }

            return false;
        }

        var path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, nameOrPath);
            if (IsExecutableFile(candidate))
            {
                fullPath = candidate;
                return true;
            }

            if (OperatingSystem.IsWindows() && IsExecutableFile(candidate + ".exe"))
            {
                fullPath = candidate + ".exe";
                return true;
            }
        }

        return false;
    }

    private static bool IsExecutableFile(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        var mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }
}
