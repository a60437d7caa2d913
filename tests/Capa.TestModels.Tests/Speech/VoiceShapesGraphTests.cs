using Capa.Models.Onnx;
using Capa.TestModels.Speech;
using Microsoft.ML.OnnxRuntime;

namespace Capa.TestModels.Tests.Speech;

/// <summary>
/// The real-shapes voice graphs (<c>capa testmodel --arch kokoro|piper --size real-shapes</c>): their parameter counts
/// are the real models', and their wiring, run an eighth as wide, keeps the real I/O contract, the lengths and the
/// dependence on every input.
/// </summary>
public sealed class VoiceShapesGraphTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "capa-voice-shapes-" + Guid.NewGuid().ToString("N"));

    public VoiceShapesGraphTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public void Kokoro_real_shapes_have_Kokoro_82Ms_parameter_count()
    {
        var (_, parameters) = KokoroShapesGraph.Build(KokoroShapes.Real, KokoroTestModelWriter.Vocabulary.Values.Max() + 1, KokoroTestModelWriter.StyleSize, 0);
        // onnx-community's model.onnx holds 325,532,232 bytes of float32: about 81 million values.
        Assert.InRange(parameters, 78_000_000, 84_000_000);
    }

    [Fact]
    public void Piper_medium_shapes_have_a_medium_voices_parameter_count()
    {
        var (_, parameters) = PiperShapesGraph.Build(PiperShapes.Medium, PiperTestModelWriter.Symbols.Length, 1, 0);
        // rhasspy/piper-voices' medium voices are about 63 MB of float32: 15 to 16 million values.
        Assert.InRange(parameters, 13_000_000, 18_000_000);
    }

    [Fact]
    public void Kokoro_shapes_speak_1200_samples_per_symbol_shortened_by_speed_and_depend_on_ids_and_style()
    {
        using var session = Open(KokoroShapesGraph.Build(KokoroShapes.Narrow, KokoroTestModelWriter.Vocabulary.Values.Max() + 1, KokoroTestModelWriter.StyleSize, 3).Graph, "kokoro.onnx");
        Assert.Equal(["input_ids", "speed", "style"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        long[] ids = [0, 50, 83, 156, 61, 16, 47, 0];
        var style = Enumerable.Range(0, 256).Select(i => MathF.Sin(i) * 0.2f).ToArray();

        var normal = Kokoro(session, ids, style, 1f);
        Assert.Equal(ids.Length * 1200, normal.Length);
        Assert.All(normal, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(ids.Length * 2 / 2 * 600, Kokoro(session, ids, style, 2f).Length);

        Assert.NotEqual(normal, Kokoro(session, [0, 50, 83, 156, 62, 16, 47, 0], style, 1f));
        Assert.NotEqual(normal, Kokoro(session, ids, [.. style.Select(v => -v)], 1f));
        Assert.Equal(normal, Kokoro(session, ids, style, 1f));
    }

    [Fact]
    public void Piper_shapes_speak_768_samples_per_id_stretched_by_length_scale_and_depend_on_ids_scales_and_speaker()
    {
        using var session = Open(PiperShapesGraph.Build(PiperShapes.Narrow, PiperTestModelWriter.Symbols.Length, 3, 5).Graph, "piper.onnx");
        Assert.Equal(["input", "input_lengths", "scales", "sid"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        long[] ids = [1, 0, 40, 0, 27, 0, 60, 0, 2];
        float[] scales = [0.667f, 1f, 0.8f];

        var normal = Piper(session, ids, scales, 0);
        Assert.Equal(ids.Length * 3 * 256, normal.Length);
        Assert.All(normal, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(ids.Length * 6 * 256, Piper(session, ids, [0.667f, 2f, 0.8f], 0).Length);

        Assert.NotEqual(normal, Piper(session, [1, 0, 41, 0, 27, 0, 60, 0, 2], scales, 0));
        Assert.NotEqual(normal, Piper(session, ids, [0.3f, 1f, 0.8f], 0));
        Assert.NotEqual(normal, Piper(session, ids, [0.667f, 1f, 0.2f], 0));
        Assert.NotEqual(normal, Piper(session, ids, scales, 2));
        Assert.Equal(normal, Piper(session, ids, scales, 0));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private InferenceSession Open(OnnxGraph graph, string name)
    {
        var path = Path.Combine(_directory, name);
        OnnxModelWriter.Write(graph, path, new OnnxWriteOptions { ProducerName = "test" });
        return new InferenceSession(path);
    }

    private static float[] Kokoro(InferenceSession session, long[] ids, float[] style, float speed)
    {
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var styleValue = OrtValue.CreateTensorValueFromMemory(style, [1, style.Length]);
        using var speedValue = OrtValue.CreateTensorValueFromMemory(new[] { speed }, [1]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input_ids", "style", "speed"], [idsValue, styleValue, speedValue], ["waveform"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] Piper(InferenceSession session, long[] ids, float[] scales, long speaker)
    {
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var lengths = OrtValue.CreateTensorValueFromMemory(new[] { (long)ids.Length }, [1]);
        using var scalesValue = OrtValue.CreateTensorValueFromMemory(scales, [3]);
        using var sid = OrtValue.CreateTensorValueFromMemory(new[] { speaker }, [1]);
        using var options = new RunOptions();
        using var outputs = session.Run(options, ["input", "input_lengths", "scales", "sid"], [idsValue, lengths, scalesValue, sid], ["output"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
