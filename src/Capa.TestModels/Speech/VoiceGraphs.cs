using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>
/// Small random-weight text-to-waveform graphs with the real I/O contracts of Kokoro and Piper. Each symbol is
/// embedded, shifted by the voice (Kokoro's style vector, Piper's speaker and noise scales), projected to a burst of
/// samples, and the bursts are stretched by the speed (Kokoro) or the length scale (Piper): the audio depends on every
/// input and its length on the symbol count and the speed, as the real models' does.
/// </summary>
internal static class VoiceGraphs
{
    private const string Batch = "batch_size", Symbols = "sequence_length", Samples = "num_samples";

    /// <summary>Kokoro: <c>input_ids</c> int64 [1, T], <c>style</c> f32 [1, 256], <c>speed</c> f32 [1] → <c>waveform</c> f32 [1, samples].</summary>
    public static OnnxGraph Kokoro(int vocabSize, int hidden, int samplesPerSymbol, int styleSize, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        string ids = g.Input("input_ids", OnnxDataType.Int64, Batch, Symbols);
        string style = g.Input("style", OnnxDataType.Float, Batch, styleSize);
        string speed = g.Input("speed", OnnxDataType.Float, 1);
        g.Scope = "/text_encoder";
        string x = g.Op("Gather", [Weight(g, "text_encoder.embedding.weight", vocabSize, hidden, seed, 1f), ids]);
        g.Scope = "/style";
        string s = g.Op("MatMul", [style, Weight(g, "style_proj.weight", styleSize, hidden, seed, 1f / MathF.Sqrt(styleSize))]);
        s = g.Op("Unsqueeze", [s, g.ConstInt64Vector(1)]);
        x = g.Op("Tanh", [g.Op("Add", [x, s])]);
        string stretch = g.Op("Div", [g.ConstFloatScalar(1f), speed]);
        string wave = Decode(g, x, hidden, samplesPerSymbol, stretch, seed);
        g.Output(g.Op("Reshape", [wave, g.ConstInt64Vector(1, -1)]), "waveform", OnnxDataType.Float, 1, Samples);
        return g.Build("main_graph");
    }

    /// <summary>
    /// Piper: <c>input</c> int64 [1, N], <c>input_lengths</c> int64 [1], <c>scales</c> f32 [3] (noise, length, noise_w),
    /// optional <c>sid</c> int64 [1] → <c>output</c> f32 [1, 1, samples].
    /// </summary>
    public static OnnxGraph Piper(int symbolCount, int hidden, int samplesPerSymbol, int speakers, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        string input = g.Input("input", OnnxDataType.Int64, Batch, "phonemes");
        string lengths = g.Input("input_lengths", OnnxDataType.Int64, Batch);
        string scales = g.Input("scales", OnnxDataType.Float, 3);
        string? sid = speakers > 1 ? g.Input("sid", OnnxDataType.Int64, Batch) : null;
        g.Scope = "/enc_p";
        // Only the first input_lengths symbols are read, as the real model masks the padding.
        string ids = g.Op("Slice", [input, g.ConstInt64Vector(0), lengths, g.ConstInt64Vector(1)]);
        string x = g.Op("Gather", [Weight(g, "enc_p.emb.weight", symbolCount, hidden, seed, 1f), ids]);
        g.Scope = "/scales";
        string scaleRow = g.Op("Reshape", [scales, g.ConstInt64Vector(1, 3)]);
        string n = g.Op("MatMul", [scaleRow, Weight(g, "scales_proj.weight", 3, hidden, seed, 1f)]);
        x = g.Op("Add", [x, g.Op("Unsqueeze", [n, g.ConstInt64Vector(1)])]);
        if (sid is not null)
        {
            g.Scope = "/emb_g";
            string speaker = g.Op("Gather", [Weight(g, "emb_g.weight", speakers, hidden, seed, 1f), sid]);
            x = g.Op("Add", [x, g.Op("Unsqueeze", [speaker, g.ConstInt64Vector(1)])]);
        }

        x = g.Op("Tanh", [x]);
        string lengthScale = g.Op("Gather", [scales, g.ConstInt64Scalar(1)], OnnxAttribute.Int("axis", 0));
        string wave = Decode(g, x, hidden, samplesPerSymbol, lengthScale, seed);
        g.Output(g.Op("Reshape", [wave, g.ConstInt64Vector(1, 1, -1)]), "output", OnnxDataType.Float, Batch, 1, Samples);
        return g.Build("main_graph");
    }

    /// <summary>[1, T, hidden] → bursts of samples [1, 1, T·n], stretched by <paramref name="stretch"/> (a float scalar or [1]).</summary>
    private static string Decode(OnnxGraphBuilder g, string x, int hidden, int samplesPerSymbol, string stretch, ulong seed)
    {
        g.Scope = "/decoder";
        string bursts = g.Op("MatMul", [x, Weight(g, "decoder.proj.weight", hidden, samplesPerSymbol, seed, 1f / MathF.Sqrt(hidden))]);
        string flat = g.Op("Reshape", [bursts, g.ConstInt64Vector(1, 1, -1)]);
        string length = g.Op("Gather", [g.Op("Shape", [flat]), g.ConstInt64Vector(2)], OnnxAttribute.Int("axis", 0));
        string stretched = g.Op("Mul", [g.Op("Cast", [length], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), g.Op("Reshape", [stretch, g.ConstInt64Vector(1)])]);
        string target = g.Op("Cast", [g.Op("Floor", [stretched])], OnnxAttribute.Int("to", (long)OnnxDataType.Int64));
        string sizes = g.Op("Concat", [g.ConstInt64Vector(1, 1), target], OnnxAttribute.Int("axis", 0));
        string resized = g.Op("Resize", [flat, "", "", sizes], OnnxAttribute.String("mode", "nearest"));
        return g.Op("Mul", [g.Op("Tanh", [resized]), g.ConstFloatScalar(0.5f)]);
    }

    private static string Weight(OnnxGraphBuilder g, string name, int rows, int cols, ulong seed, float std) =>
        g.Initializer(name, OnnxDataType.Float, [rows, cols], () => WeightGenerator.NormalBytes(seed, name, (long)rows * cols, 0f, std));
}
