using Capa.TestModels;

namespace Capa.TestModels.Tests;

/// <summary>Tiny models of every family in every weight format, written once for the test run into a temp folder.</summary>
public sealed class TestModelFolders : IDisposable
{
    public const ulong Seed = 7;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-testmodels-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<TestModelArch, TestModelResult> _folders = [];
    private readonly Lock _gate = new();

    public static TheoryData<TestModelArch> Archs => new(Enum.GetValues<TestModelArch>());

    public static TheoryData<TestModelArch, TestModelQuant> ArchsAndQuants
    {
        get
        {
            var data = new TheoryData<TestModelArch, TestModelQuant>();
            foreach (TestModelArch arch in Enum.GetValues<TestModelArch>())
            {
                foreach (TestModelQuant quant in Enum.GetValues<TestModelQuant>())
                {
                    data.Add(arch, quant);
                }
            }

            return data;
        }
    }

    /// <summary>The folder of <paramref name="arch"/> (all three weight formats), written on first use.</summary>
    public TestModelResult Get(TestModelArch arch)
    {
        lock (_gate)
        {
            if (!_folders.TryGetValue(arch, out TestModelResult? result))
            {
                result = TestModelWriter.Write(
                    new TestModelSpec { Arch = arch, Quants = [TestModelQuant.Fp32, TestModelQuant.Int8, TestModelQuant.Q4], Seed = Seed },
                    Path.Combine(_root, arch.ToString().ToLowerInvariant()));
                _folders.Add(arch, result);
            }

            return result;
        }
    }

    public string OnnxPath(TestModelArch arch, TestModelQuant quant) =>
        Path.Combine(Get(arch).Directory, "onnx", TestModelSpec.OnnxFileName(quant));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TestModelCollection : ICollectionFixture<TestModelFolders>
{
    public const string Name = "Generated test models";
}
