using Capa.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Capa.Models.Tests.Onnx;

public sealed class OnnxModelWriterTests
{
    /// <summary>y = Transpose(x + w) · 2 with an int attribute list, a scalar constant and a named output.</summary>
    private static OnnxGraph SmallGraph()
    {
        var g = new OnnxGraphBuilder { Scope = "/test" };
        string x = g.Input("x", OnnxDataType.Float, "batch", 3);
        string w = g.Initializer("w", [1, 3], new float[] { 1f, 2f, 3f });
        string sum = g.Op("Add", [x, w]);
        string t = g.Op("Transpose", [sum], OnnxAttribute.Ints("perm", 1, 0));
        string y = g.Op("Mul", [t, g.ConstFloatScalar(2f)]);
        g.Output(y, "y", OnnxDataType.Float, 3, "batch");
        return g.Build("small");
    }

    [Fact]
    public void Onnx_runtime_runs_a_written_model()
    {
        byte[] model = OnnxModelWriter.ToBytes(SmallGraph());
        using var session = new InferenceSession(model);
        float[] result = Run(session);
        Assert.Equal([2f, 4f, 4f, 8f, 6f, 12f], result);
        Assert.Equal(["x"], session.InputMetadata.Keys);
        Assert.Equal(["y"], session.OutputMetadata.Keys);
        Assert.Equal([-1, 3], session.InputMetadata["x"].Dimensions);
    }

    [Fact]
    public void External_data_is_aligned_and_loads()
    {
        string dir = Path.Combine(Path.GetTempPath(), "capa-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            OnnxModelWriter.Write(SmallGraph(), path, new OnnxWriteOptions { ExternalDataFileName = "m.onnx_data", ExternalDataMinBytes = 4 });
            // w (12 bytes) at 0 and the scalar 2 (4 bytes) at the next 4096-byte boundary.
            Assert.Equal(4096 + 4, new FileInfo(Path.Combine(dir, "m.onnx_data")).Length);
            using var session = new InferenceSession(path);
            Assert.Equal([2f, 4f, 4f, 8f, 6f, 12f], Run(session));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Output_is_deterministic_and_names_are_unique()
    {
        Assert.Equal(OnnxModelWriter.ToBytes(SmallGraph()), OnnxModelWriter.ToBytes(SmallGraph()));
        var g = new OnnxGraphBuilder();
        g.Input("x", OnnxDataType.Float, 1);
        Assert.Throws<InvalidOperationException>(() => g.Initializer("x", [1], new float[] { 0f }));
        Assert.Throws<ArgumentException>(() => OnnxModelWriter.ToBytes(SmallGraph(), new OnnxWriteOptions { ExternalDataFileName = "d" }));
    }

    [Fact]
    public void An_initializer_that_produces_the_wrong_length_is_reported()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("x", OnnxDataType.Float, 2);
        string w = g.Initializer("w", OnnxDataType.Float, [2], () => new byte[4]);
        g.Output(g.Op("Add", [x, w]), "y", OnnxDataType.Float, 2);
        var e = Assert.Throws<InvalidOperationException>(() => OnnxModelWriter.ToBytes(g.Build("bad")));
        Assert.Contains("'w' produced 4 bytes; its shape needs 8", e.Message, StringComparison.Ordinal);
    }

    private static float[] Run(InferenceSession session)
    {
        var input = new DenseTensor<float>(new float[] { 0f, 0f, 0f, 1f, 2f, 3f }, [2, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var y = results.Single().AsTensor<float>();
        Assert.Equal([3, 2], y.Dimensions.ToArray());
        return [.. y];
    }
}
