using Capa.TestModels.Images;

namespace Capa.Engine.Images.Tests;

/// <summary>One random-weight tiny Stable Diffusion folder (seed 0) and its pipeline, shared by a test class.</summary>
public sealed class TinyDiffusion : IDisposable
{
    public TinyDiffusion()
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-tiny-sd-" + Guid.NewGuid().ToString("N"));
        DiffusionTestModelWriter.Write(new DiffusionTestModelSpec(), Directory);
        Folder = DiffusionModelFolder.Open(Directory);
        Pipeline = StableDiffusionPipeline.Load(Folder, new DiffusionSessionOptions { IntraOpThreads = 1 });
    }

    public string Directory { get; }

    public DiffusionModelFolder Folder { get; }

    public StableDiffusionPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
