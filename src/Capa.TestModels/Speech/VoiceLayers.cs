using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>
/// The layers the real-shapes voice graphs are made of (1-D convolutions, transposed convolutions, bidirectional
/// LSTMs, attention, adaptive instance norm, Snake), with random weights and a running parameter count. Convolution
/// tensors are [1, channels, time]; linear ones [1, time, features].
/// </summary>
internal sealed class VoiceLayers(OnnxGraphBuilder g, ulong seed)
{
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    private int _scales;

    /// <summary>The builder.</summary>
    public OnnxGraphBuilder G => g;

    /// <summary>Learned values declared so far.</summary>
    public long Parameters { get; private set; }

    /// <summary>A learned tensor; a name already declared is read again (shared weights), not declared twice.</summary>
    public string Weight(string name, long[] dims, float std, float mean = 0f)
    {
        if (!_declared.Add(name))
        {
            return name;
        }

        long count = dims.Aggregate(1L, (a, b) => a * b);
        Parameters += count;
        return g.Initializer(name, OnnxDataType.Float, dims, () => WeightGenerator.NormalBytes(seed, name, count, mean, std));
    }

    /// <summary>A constant float tensor of one value (norm scales and shifts that are not learned).</summary>
    public string Fill(long[] dims, float value, string name)
    {
        if (!_declared.Add(name))
        {
            return name;
        }

        var values = new float[dims.Aggregate(1L, (a, b) => a * b)];
        Array.Fill(values, value);
        return g.Initializer(name, dims, values);
    }

    public string Linear(string x, string name, int input, int output)
    {
        var w = Weight(name + ".weight", [input, output], 1f / MathF.Sqrt(input));
        return g.Op("Add", [g.Op("MatMul", [x, w]), Weight(name + ".bias", [output], 0.02f)]);
    }

    /// <summary>Conv1d; <paramref name="padBegin"/>/<paramref name="padEnd"/> default to "same" padding.</summary>
    public string Conv(string x, string name, int input, int output, int kernel, int stride = 1, int dilation = 1, int? padBegin = null, int? padEnd = null)
    {
        int pad = dilation * (kernel - 1) / 2;
        var w = Weight(name + ".weight", [output, input, kernel], 1f / MathF.Sqrt(input * kernel));
        return g.Op("Conv", [x, w, Weight(name + ".bias", [output], 0.02f)],
            OnnxAttribute.Ints("dilations", dilation), OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("pads", padBegin ?? pad, padEnd ?? pad), OnnxAttribute.Ints("strides", stride));
    }

    /// <summary>ConvTranspose1d: length × <paramref name="stride"/> when kernel − pad begin − pad end = stride.</summary>
    public string ConvTranspose(string x, string name, int input, int output, int kernel, int stride, int padBegin, int padEnd, int groups = 1, int outputPadding = 0)
    {
        var w = Weight(name + ".weight", [input, output / groups, kernel], 1f / MathF.Sqrt(input * kernel / (float)stride));
        return g.Op("ConvTranspose", [x, w, Weight(name + ".bias", [output], 0.02f)],
            OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("pads", padBegin, padEnd), OnnxAttribute.Ints("strides", stride),
            OnnxAttribute.Int("group", groups), OnnxAttribute.Ints("output_padding", outputPadding));
    }

    public string LeakyRelu(string x, float alpha) => g.Op("LeakyRelu", [x], OnnxAttribute.Float("alpha", alpha));

    /// <summary>[1, C, T] ↔ [1, T, C].</summary>
    public string Swap(string x) => g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1));

    /// <summary>Bidirectional LSTM: [1, T, input] → [1, T, 2·hidden].</summary>
    public string BiLstm(string x, string name, int input, int hidden)
    {
        float std = 1f / MathF.Sqrt(hidden);
        var w = Weight(name + ".weight_ih", [2, 4 * hidden, input], std);
        var r = Weight(name + ".weight_hh", [2, 4 * hidden, hidden], std);
        var b = Weight(name + ".bias", [2, 8 * hidden], std);
        var timeMajor = g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 1, 0, 2));
        var y = g.Op("LSTM", [timeMajor, w, r, b], OnnxAttribute.String("direction", "bidirectional"), OnnxAttribute.Int("hidden_size", hidden));
        // Y is [T, 2, 1, hidden] → [1, T, 2, hidden] → [1, T, 2·hidden].
        var batchMajor = g.Op("Transpose", [y], OnnxAttribute.Ints("perm", 2, 0, 1, 3));
        return g.Op("Reshape", [batchMajor, g.ConstInt64Vector(0, 0, -1)]);
    }

    /// <summary>LayerNorm over the last axis, learned scale and shift.</summary>
    public string LayerNorm(string x, string name, int size) => g.Op("LayerNormalization",
        [x, Weight(name + ".weight", [size], 0.05f, mean: 1f), Weight(name + ".bias", [size], 0.02f)],
        OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-5f));

    /// <summary>Scale and shift from a style vector [1, S]: (gamma, beta), each [1, C] unsqueezed at <paramref name="axis"/>.</summary>
    public (string Gamma, string Beta) StyleAffine(string style, string name, int styleSize, int channels, long axis)
    {
        var h = Linear(style, name + ".fc", styleSize, 2 * channels);
        var gamma = g.Op("Slice", [h, g.ConstInt64Vector(0), g.ConstInt64Vector(channels), g.ConstInt64Vector(1)]);
        var beta = g.Op("Slice", [h, g.ConstInt64Vector(channels), g.ConstInt64Vector(2 * channels), g.ConstInt64Vector(1)]);
        return (g.Op("Unsqueeze", [gamma, g.ConstInt64Vector(axis)]), g.Op("Unsqueeze", [beta, g.ConstInt64Vector(axis)]));
    }

    /// <summary>StyleTTS 2's AdaIN1d: instance norm of [1, C, T], scaled by 1 + gamma(style) and shifted by beta(style).</summary>
    public string AdaIn(string x, string style, string name, int styleSize, int channels)
    {
        var norm = g.Op("InstanceNormalization", [x, Fill([channels], 1f, name + ".norm.scale"), Fill([channels], 0f, name + ".norm.shift")], OnnxAttribute.Float("epsilon", 1e-5f));
        var (gamma, beta) = StyleAffine(style, name, styleSize, channels, 2);
        return g.Op("Add", [g.Op("Mul", [norm, g.Op("Add", [gamma, g.ConstFloatScalar(1f)])]), beta]);
    }

    /// <summary>StyleTTS 2's AdaLayerNorm on [1, T, C].</summary>
    public string AdaLayerNorm(string x, string style, string name, int styleSize, int channels)
    {
        var norm = g.Op("LayerNormalization", [x, Fill([channels], 1f, name + ".norm.scale"), Fill([channels], 0f, name + ".norm.shift")], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-5f));
        var (gamma, beta) = StyleAffine(style, name, styleSize, channels, 1);
        return g.Op("Add", [g.Op("Mul", [norm, g.Op("Add", [gamma, g.ConstFloatScalar(1f)])]), beta]);
    }

    /// <summary>Snake activation: x + sin²(αx) / α, α per channel.</summary>
    public string Snake(string x, string name, int channels)
    {
        var alpha = Weight(name, [1, channels, 1], 0.05f, mean: 1f);
        var sin = g.Op("Sin", [g.Op("Mul", [x, alpha])]);
        return g.Op("Add", [x, g.Op("Div", [g.Op("Mul", [sin, sin]), alpha])]);
    }

    /// <summary>Nearest-neighbour stretch of the last axis of [1, C, T] to <paramref name="length"/> (int64 [1]).</summary>
    public string StretchTo(string x, int channels, string length)
    {
        var sizes = g.Op("Concat", [g.ConstInt64Vector(1, channels), length], OnnxAttribute.Int("axis", 0));
        return g.Op("Resize", [x, "", "", sizes], OnnxAttribute.String("mode", "nearest"));
    }

    /// <summary>Nearest-neighbour upsampling of the last axis of [1, C, T] by <paramref name="factor"/>.</summary>
    public string Upsample(string x, float factor)
    {
        var scales = g.Initializer("upsample_scales." + (_scales++).ToString(System.Globalization.CultureInfo.InvariantCulture), [3], [1f, 1f, factor]);
        return g.Op("Resize", [x, "", scales], OnnxAttribute.String("mode", "nearest"));
    }

    /// <summary>Multi-head self-attention and its output projection on [1, T, hidden], no mask (batch 1).</summary>
    public string SelfAttention(string x, string name, int hidden, int heads)
    {
        int d = hidden / heads;
        var headShape = g.ConstInt64Vector(0, 0, heads, d);
        string Heads(string part, params long[] perm) =>
            g.Op("Transpose", [g.Op("Reshape", [Linear(x, name + "." + part, hidden, hidden), headShape])], OnnxAttribute.Ints("perm", perm));
        var q = Heads("query", 0, 2, 1, 3);
        var k = Heads("key", 0, 2, 3, 1);
        var v = Heads("value", 0, 2, 1, 3);
        var scores = g.Op("Mul", [g.Op("MatMul", [q, k]), g.ConstFloatScalar(1f / MathF.Sqrt(d))]);
        var context = g.Op("MatMul", [g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), v]);
        var merged = g.Op("Reshape", [g.Op("Transpose", [context], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), g.ConstInt64Vector(0, 0, hidden)]);
        return Linear(merged, name + ".dense", hidden, hidden);
    }

    public string Gelu(string x) => g.Op("Mul", [g.Op("Mul", [x, g.ConstFloatScalar(0.5f)]),
        g.Op("Add", [g.Op("Erf", [g.Op("Mul", [x, g.ConstFloatScalar(1f / MathF.Sqrt(2f))])]), g.ConstFloatScalar(1f)])]);

    /// <summary>Length of axis <paramref name="axis"/> of <paramref name="x"/> as int64 [1].</summary>
    public string Length(string x, long axis) =>
        g.Op("Gather", [g.Op("Shape", [x]), g.ConstInt64Vector(axis)], OnnxAttribute.Int("axis", 0));

    /// <summary>floor(<paramref name="length"/> · <paramref name="factor"/>) as int64 [1], at least 1; <paramref name="factor"/> is float [1].</summary>
    public string ScaledLength(string length, string factor)
    {
        var scaled = g.Op("Mul", [g.Op("Cast", [length], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), factor]);
        var floor = g.Op("Cast", [g.Op("Floor", [scaled])], OnnxAttribute.Int("to", (long)OnnxDataType.Int64));
        return g.Op("Max", [floor, g.ConstInt64Vector(1)]);
    }
}
