using Capa.Engine.Vision.Qwen2VL;
using Capa.Engine.Vision.Tests.Model;
using Capa.TestModels.Vision;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

/// <summary>A random-weight Qwen2-VL folder written once per test class, and helpers to feed it.</summary>
public sealed class TinyQwen2Vl : IDisposable
{
    private readonly Lazy<LocalVisionModel> _model;

    public TinyQwen2Vl()
        : this(Qwen2VlTestFamily.Qwen2)
    {
    }

    /// <summary>A folder of <paramref name="family"/>'s shape; the seed is the same, so both families hold the same weights.</summary>
    internal TinyQwen2Vl(Qwen2VlTestFamily family)
    {
        string name = family == Qwen2VlTestFamily.Qwen25 ? "qwen2.5vl-tiny" : "qwen2vl-tiny";
        Directory = Path.Combine(Path.GetTempPath(), "capa-qwen2vl-" + Guid.NewGuid().ToString("N"), name);
        Qwen2VlTestModelWriter.Write(seed: 5, Directory, family);
        Processor = Qwen2VLImageProcessor.FromFolder(Directory);
        _model = new(() => LocalVisionModel.Load(Directory, new LocalVisionModelOptions { Decoder = new() { IntraOpThreads = 1 } }));
    }

    public string Directory { get; }

    public Qwen2VLImageProcessor Processor { get; }

    public LocalVisionModel Model => _model.Value;

    /// <summary>The templated prompt of one user turn (an image, then the question) with the image's pad tokens expanded.</summary>
    public IReadOnlyList<int> Prompt(string question, int imageTokens) =>
        Model.ExpandImages(Model.Tokenize(Model.RenderPrompt(TinySmolVlm.UserTurn(question))), [Qwen2VLImageProcessor.ExpandPrompt(imageTokens)]);

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Dispose();
        }

        try
        {
            System.IO.Directory.Delete(Path.GetDirectoryName(Directory)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The same folder as <see cref="TinyQwen2Vl"/>, shaped as Qwen2.5-VL's (<c>capa testmodel --arch qwen2.5vl</c>).</summary>
public sealed class TinyQwen25Vl : IDisposable
{
    public TinyQwen2Vl Tiny { get; } = new(Qwen2VlTestFamily.Qwen25);

    public void Dispose() => Tiny.Dispose();
}
