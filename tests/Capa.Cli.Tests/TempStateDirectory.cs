namespace Capa.Cli.Tests;

/// <summary>A server's own state directory for one test class, so that no test reads or writes <c>~/.capa/state</c>.</summary>
internal sealed class TempStateDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("capa-cli-state-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left for the temp cleaner.
        }
    }
}
