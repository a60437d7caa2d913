namespace Capa.Models.Store;

/// <summary>
/// A model folder that Capa writes itself (the embedded default models), installed once and whole: it is written beside
/// its final place and then renamed there, with its model card (<c>README.md</c>) last, so readers never see half a
/// model. Safe to call at every start and from several processes; a half-written folder left by an interrupted run is
/// replaced.
/// </summary>
public static class GeneratedModelFolder
{
    /// <summary>The file whose presence says the folder is complete.</summary>
    public const string MarkerFile = "README.md";

    /// <summary>Whether the folder at <paramref name="target"/> is there and complete.</summary>
    public static bool IsWritten(string target) => File.Exists(Path.Combine(target, MarkerFile));

    /// <summary>
    /// Writes the folder at <paramref name="target"/> unless it is complete already: <paramref name="write"/> fills a
    /// staging folder under <paramref name="stagingRoot"/> (which must be on the same file system), then the model card is
    /// added and the folder renamed into place.
    /// </summary>
    /// <param name="target">The folder's final place.</param>
    /// <param name="stagingRoot">Where the staging folder is made; the same file system as <paramref name="target"/>.</param>
    /// <param name="write">Writes the model's files into the folder it is given.</param>
    /// <param name="modelCard">The text of the model card.</param>
    /// <returns><paramref name="target"/>.</returns>
    public static string Ensure(string target, string stagingRoot, Action<string> write, string modelCard)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        ArgumentException.ThrowIfNullOrWhiteSpace(stagingRoot);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(modelCard);
        if (IsWritten(target))
        {
            return target;
        }

        var staging = Path.Combine(stagingRoot, ".staging-" + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("N"));
        try
        {
            write(staging);
            File.WriteAllText(Path.Combine(staging, MarkerFile), modelCard);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            try
            {
                Directory.Move(staging, target);
            }
            catch (IOException) when (IsWritten(target))
            {
                // Another process finished first.
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        return target;
    }
}
