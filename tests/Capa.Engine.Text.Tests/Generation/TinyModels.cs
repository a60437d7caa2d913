using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>Tiny generated model folders (one per architecture, fp32 and q4), written once per test run.</summary>
public sealed class TinyModels : IDisposable
{
    private readonly Dictionary<TestModelArch, string> _folders = [];
    private readonly Lock _lock = new();

    public TinyModels()
    {
        Root = Path.Combine(Path.GetTempPath(), "capa-engine-tests-" + Guid.NewGuid().ToString("N"));
    }

    public string Root { get; }

    /// <summary>The folder of <paramref name="arch"/> (fp32 + q4), generated on first use.</summary>
    public string Get(TestModelArch arch)
    {
        lock (_lock)
        {
            if (!_folders.TryGetValue(arch, out var dir))
            {
                dir = Path.Combine(Root, arch.ToString().ToLowerInvariant());
                TestModelWriter.Write(new TestModelSpec { Arch = arch, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32, TestModelQuant.Q4], Seed = 7 }, dir);
                _folders[arch] = dir;
            }

            return dir;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
