using System.Globalization;
using System.Runtime.InteropServices;
using Capa.Models.Onnx;

namespace Capa.TestModels.Whisper;

/// <summary>
/// Builds Whisper's encoder and merged decoder as optimum exports them for transformers.js. Encoder:
/// <c>input_features</c> [batch, mels, 3000] → <c>last_hidden_state</c> [batch, 1500, d_model]. Merged decoder:
/// <c>input_ids</c>, <c>encoder_hidden_states</c>, <c>past_key_values.N.decoder|encoder.key|value</c>,
/// <c>use_cache_branch</c> → <c>logits</c>, <c>present.N.decoder|encoder.key|value</c>; an <c>If</c> on
/// <c>use_cache_branch</c> either projects the encoder states to cross-attention keys and values (first step) or
/// passes the cached ones through. With cross-attentions (as the <c>*_timestamped</c> exports for word timestamps), the
/// decoder also outputs <c>cross_attentions.N</c> [batch, heads, decoder_sequence_length, encoder_sequence_length_out]:
/// each layer's cross-attention weights after the softmax.
/// </summary>
internal sealed class WhisperGraphs
{
    private const string Batch = "batch_size", Sequence = "decoder_sequence_length", Past = "past_decoder_sequence_length";
    private const string EncoderSequence = "encoder_sequence_length", Total = "past_decoder_sequence_length + 1";
    private const float LayerNormEpsilon = 1e-5f;

    private readonly WhisperTestShapes _s;
    private readonly ulong _seed;
    private readonly bool _crossAttentions;

    private WhisperGraphs(WhisperTestShapes shapes, ulong seed, bool crossAttentions)
    {
        _s = shapes;
        _seed = seed;
        _crossAttentions = crossAttentions;
    }

    public static OnnxGraph Encoder(WhisperTestShapes shapes, ulong seed) => new WhisperGraphs(shapes, seed, crossAttentions: false).BuildEncoder();

    public static OnnxGraph MergedDecoder(WhisperTestShapes shapes, ulong seed, bool crossAttentions = false) =>
        new WhisperGraphs(shapes, seed, crossAttentions).BuildDecoder();

    private OnnxGraph BuildEncoder()
    {
        var g = new OnnxGraphBuilder();
        int d = _s.DModel;
        string features = g.Input("input_features", OnnxDataType.Float, Batch, _s.MelBins, 3000);
        g.Scope = "/model/encoder/conv1";
        string x = Gelu(g, Conv(g, features, "model.encoder.conv1", d, _s.MelBins, stride: 1));
        g.Scope = "/model/encoder/conv2";
        x = Gelu(g, Conv(g, x, "model.encoder.conv2", d, d, stride: 2));
        g.Scope = "/model/encoder";
        x = g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1));
        string positions = g.Initializer("model.encoder.embed_positions.weight", [WhisperTestShapes.SourcePositions, d], Sinusoids(WhisperTestShapes.SourcePositions, d));
        x = g.Op("Add", [x, positions]);
        for (int i = 0; i < _s.EncoderLayers; i++)
        {
            string p = Invariant($"model.encoder.layers.{i}.");
            g.Scope = Invariant($"/model/encoder/layers.{i}");
            string h = LayerNorm(g, x, p + "self_attn_layer_norm");
            (string k, string v) = KeyValues(g, h, p + "self_attn.");
            x = g.Op("Add", [x, Attention(g, h, k, v, p + "self_attn.", bias: null, out _)]);
            x = g.Op("Add", [x, Mlp(g, LayerNorm(g, x, p + "final_layer_norm"), p)]);
        }

        g.Scope = "/model/encoder/layer_norm";
        x = LayerNorm(g, x, "model.encoder.layer_norm");
        g.Output(x, "last_hidden_state", OnnxDataType.Float, Batch, WhisperTestShapes.SourcePositions, d);
        return g.Build("main_graph");
    }

    private OnnxGraph BuildDecoder()
    {
        var g = new OnnxGraphBuilder();
        int d = _s.DModel, heads = _s.Heads, hd = _s.HeadDim, layers = _s.DecoderLayers;
        string inputIds = g.Input("input_ids", OnnxDataType.Int64, Batch, Sequence);
        string encoderStates = g.Input("encoder_hidden_states", OnnxDataType.Float, Batch, EncoderSequence, d);
        var pastKeys = new string[layers];
        var pastValues = new string[layers];
        var pastCrossKeys = new string[layers];
        var pastCrossValues = new string[layers];
        for (int i = 0; i < layers; i++)
        {
            pastKeys[i] = g.Input(Invariant($"past_key_values.{i}.decoder.key"), OnnxDataType.Float, Batch, heads, Past, hd);
            pastValues[i] = g.Input(Invariant($"past_key_values.{i}.decoder.value"), OnnxDataType.Float, Batch, heads, Past, hd);
            pastCrossKeys[i] = g.Input(Invariant($"past_key_values.{i}.encoder.key"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
            pastCrossValues[i] = g.Input(Invariant($"past_key_values.{i}.encoder.value"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
        }

        string useCache = g.Input("use_cache_branch", OnnxDataType.Bool, 1);

        // Cross-attention keys and values: computed from the encoder states once, then read from the cache.
        g.Scope = "/model/decoder/cross_cache";
        OnnxGraphBuilder reuse = g.CreateSubgraph();
        OnnxGraphBuilder compute = g.CreateSubgraph();
        for (int i = 0; i < layers; i++)
        {
            string p = Invariant($"model.decoder.layers.{i}.encoder_attn.");
            reuse.Scope = compute.Scope = Invariant($"/model/decoder/layers.{i}/encoder_attn");
            reuse.Output(pastCrossKeys[i], Invariant($"cached_cross_key_{i}"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
            reuse.Output(pastCrossValues[i], Invariant($"cached_cross_value_{i}"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
            (string k, string v) = KeyValues(compute, encoderStates, p);
            compute.Output(k, Invariant($"computed_cross_key_{i}"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
            compute.Output(v, Invariant($"computed_cross_value_{i}"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
        }

        string[] cross = g.OpIn("", "If", [useCache], 2 * layers,
            OnnxAttribute.Graph("then_branch", reuse.Build("reuse_cross_attention_cache")),
            OnnxAttribute.Graph("else_branch", compute.Build("compute_cross_attention_cache")));

        g.Scope = "/model/decoder/embed_tokens";
        string embedName = "model.decoder.embed_tokens.weight";
        // A small embedding keeps the residual stream from echoing the input token through the tied head (which would
        // make greedy output repeat one token), and strong learned positions make each step's choice differ; the head's
        // scale restores logits of a few units.
        const float embedStd = 0.2f;
        g.Initializer(embedName, OnnxDataType.Float, [_s.VocabSize, d], () => WeightGenerator.NormalBytes(_seed, embedName, (long)_s.VocabSize * d, 0f, embedStd));
        string x = g.Op("Gather", [embedName, inputIds]);

        g.Scope = "/model/decoder/embed_positions";
        string zero = g.ConstInt64Scalar(0), one = g.ConstInt64Scalar(1);
        string seq = g.Op("Gather", [g.Op("Shape", [inputIds]), one], OnnxAttribute.Int("axis", 0));
        string past = g.Op("Gather", [g.Op("Shape", [pastKeys[0]]), g.ConstInt64Scalar(2)], OnnxAttribute.Int("axis", 0));
        string total = g.Op("Add", [past, seq]);
        string positionName = "model.decoder.embed_positions.weight";
        g.Initializer(positionName, OnnxDataType.Float, [WhisperTestShapes.TargetPositions, d], () => WeightGenerator.NormalBytes(_seed, positionName, (long)WhisperTestShapes.TargetPositions * d, 0f, 1f));
        x = g.Op("Add", [x, g.Op("Gather", [positionName, g.Op("Range", [past, total, one])])]);

        // Causal mask [seq, total]: query i (absolute past + i) sees keys j ≤ past + i.
        g.Scope = "/model/decoder";
        string keyPositions = g.Op("Range", [zero, total, one]);
        string queryPositions = g.Op("Unsqueeze", [g.Op("Range", [past, total, one]), g.ConstInt64Vector(1)]);
        string causal = g.Op("Where", [g.Op("LessOrEqual", [keyPositions, queryPositions]), g.ConstFloatScalar(0f), g.ConstFloatScalar(float.MinValue)]);

        var presents = new List<(string Key, string Value)>();
        var crossWeights = new List<string>();
        for (int i = 0; i < layers; i++)
        {
            string p = Invariant($"model.decoder.layers.{i}.");
            g.Scope = Invariant($"/model/decoder/layers.{i}");
            string h = LayerNorm(g, x, p + "self_attn_layer_norm");
            (string k, string v) = KeyValues(g, h, p + "self_attn.");
            string presentKey = g.Op("Concat", [pastKeys[i], k], OnnxAttribute.Int("axis", 2));
            string presentValue = g.Op("Concat", [pastValues[i], v], OnnxAttribute.Int("axis", 2));
            presents.Add((presentKey, presentValue));
            x = g.Op("Add", [x, Attention(g, h, presentKey, presentValue, p + "self_attn.", causal, out _)]);
            h = LayerNorm(g, x, p + "encoder_attn_layer_norm");
            x = g.Op("Add", [x, Attention(g, h, cross[2 * i], cross[(2 * i) + 1], p + "encoder_attn.", bias: null, out string weights)]);
            crossWeights.Add(weights);
            x = g.Op("Add", [x, Mlp(g, LayerNorm(g, x, p + "final_layer_norm"), p)]);
        }

        g.Scope = "/model/decoder/layer_norm";
        x = LayerNorm(g, x, "model.decoder.layer_norm");
        g.Scope = "/proj_out";
        // proj_out is tied to the token embedding; scaled so logits spread about ±3 and greedy choices are clear.
        string logits = g.Op("Mul", [g.Op("MatMul", [x, g.Op("Transpose", [embedName], OnnxAttribute.Ints("perm", 1, 0))]), g.ConstFloatScalar(3f / (embedStd * MathF.Sqrt(d)))]);
        g.Output(logits, "logits", OnnxDataType.Float, Batch, Sequence, _s.VocabSize);
        for (int i = 0; i < layers; i++)
        {
            g.Scope = Invariant($"/model/decoder/layers.{i}");
            g.Output(presents[i].Key, Invariant($"present.{i}.decoder.key"), OnnxDataType.Float, Batch, heads, Total, hd);
            g.Output(presents[i].Value, Invariant($"present.{i}.decoder.value"), OnnxDataType.Float, Batch, heads, Total, hd);
            g.Output(cross[2 * i], Invariant($"present.{i}.encoder.key"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
            g.Output(cross[(2 * i) + 1], Invariant($"present.{i}.encoder.value"), OnnxDataType.Float, Batch, heads, EncoderSequence, hd);
        }

        if (_crossAttentions)
        {
            // After the presents, as optimum appends the extra outputs of a custom ONNX config.
            for (int i = 0; i < layers; i++)
            {
                g.Scope = Invariant($"/model/decoder/layers.{i}/encoder_attn");
                g.Output(crossWeights[i], Invariant($"cross_attentions.{i}"), OnnxDataType.Float, Batch, heads, Sequence, "encoder_sequence_length_out");
            }
        }

        return g.Build("main_graph");
    }

    /// <summary>Keys (no bias, as Whisper's k_proj) and values projected and split into heads: [batch, heads, seq, head_dim].</summary>
    private (string Key, string Value) KeyValues(OnnxGraphBuilder g, string x, string prefix)
    {
        string k = Heads(g, Linear(g, x, prefix + "k_proj", _s.DModel, _s.DModel, bias: false));
        string v = Heads(g, Linear(g, x, prefix + "v_proj", _s.DModel, _s.DModel, bias: true));
        return (k, v);
    }

    /// <summary>Multi-head attention; <paramref name="weights"/> names the softmax output [batch, heads, queries, keys].</summary>
    private string Attention(OnnxGraphBuilder g, string x, string keys, string values, string prefix, string? bias, out string weights)
    {
        int d = _s.DModel;
        string q = Heads(g, Linear(g, x, prefix + "q_proj", d, d, bias: true));
        q = g.Op("Mul", [q, g.ConstFloatScalar(1f / MathF.Sqrt(_s.HeadDim))]);
        string scores = g.Op("MatMul", [q, g.Op("Transpose", [keys], OnnxAttribute.Ints("perm", 0, 1, 3, 2))]);
        if (bias is not null)
        {
            scores = g.Op("Add", [scores, bias]);
        }

        string probs = g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1));
        weights = probs;
        string context = g.Op("MatMul", [probs, values]);
        string merged = g.Op("Reshape", [g.Op("Transpose", [context], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), g.ConstInt64Vector(0, 0, d)]);
        return Linear(g, merged, prefix + "out_proj", d, d, bias: true);
    }

    private string Heads(OnnxGraphBuilder g, string x) =>
        g.Op("Transpose", [g.Op("Reshape", [x, g.ConstInt64Vector(0, 0, _s.Heads, _s.HeadDim)])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));

    private string Mlp(OnnxGraphBuilder g, string x, string prefix)
    {
        string h = Gelu(g, Linear(g, x, prefix + "fc1", _s.FfnDim, _s.DModel, bias: true));
        return Linear(g, h, prefix + "fc2", _s.DModel, _s.FfnDim, bias: true);
    }

    /// <summary>x · Wᵀ + b for a PyTorch-layout weight W [n, k] (stored transposed, as exporters do).</summary>
    private string Linear(OnnxGraphBuilder g, string x, string prefix, int n, int k, bool bias)
    {
        string weightName = prefix + ".weight";
        string w = g.Initializer(weightName + ".T", OnnxDataType.Float, [k, n],
            () => WeightQuantizer.TransposeToBytes(WeightGenerator.Normal(_seed, weightName, (long)n * k, 0f, 1f / MathF.Sqrt(k)), n, k));
        string y = g.Op("MatMul", [x, w]);
        if (!bias)
        {
            return y;
        }

        string biasName = prefix + ".bias";
        string b = g.Initializer(biasName, OnnxDataType.Float, [n], () => WeightGenerator.NormalBytes(_seed, biasName, n, 0f, 0.05f));
        return g.Op("Add", [y, b]);
    }

    private string Conv(OnnxGraphBuilder g, string x, string prefix, int outChannels, int inChannels, int stride)
    {
        string weightName = prefix + ".weight", biasName = prefix + ".bias";
        string w = g.Initializer(weightName, OnnxDataType.Float, [outChannels, inChannels, 3],
            () => WeightGenerator.NormalBytes(_seed, weightName, (long)outChannels * inChannels * 3, 0f, 1f / MathF.Sqrt(inChannels * 3)));
        string b = g.Initializer(biasName, OnnxDataType.Float, [outChannels], () => WeightGenerator.NormalBytes(_seed, biasName, outChannels, 0f, 0.05f));
        return g.Op("Conv", [x, w, b], OnnxAttribute.Ints("kernel_shape", 3), OnnxAttribute.Ints("pads", 1, 1), OnnxAttribute.Ints("strides", stride));
    }

    private string LayerNorm(OnnxGraphBuilder g, string x, string prefix)
    {
        string weightName = prefix + ".weight", biasName = prefix + ".bias";
        string w = g.Initializer(weightName, OnnxDataType.Float, [_s.DModel], () => WeightGenerator.NormalBytes(_seed, weightName, _s.DModel, 1f, 0.1f));
        string b = g.Initializer(biasName, OnnxDataType.Float, [_s.DModel], () => WeightGenerator.NormalBytes(_seed, biasName, _s.DModel, 0f, 0.05f));
        return g.Op("LayerNormalization", [x, w, b], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", LayerNormEpsilon));
    }

    /// <summary>Exact GeLU, 0.5·x·(1 + erf(x/√2)), as exporters write it before opset 20.</summary>
    private static string Gelu(OnnxGraphBuilder g, string x)
    {
        string erf = g.Op("Erf", [g.Op("Div", [x, g.ConstFloatScalar(MathF.Sqrt(2f))])]);
        return g.Op("Mul", [g.Op("Mul", [x, g.Op("Add", [erf, g.ConstFloatScalar(1f)])]), g.ConstFloatScalar(0.5f)]);
    }

    /// <summary>Whisper's fixed sinusoidal encoder positions: sin of the first half of channels, cos of the second.</summary>
    private static float[] Sinusoids(int length, int channels)
    {
        int half = channels / 2;
        double increment = Math.Log(10000) / (half - 1);
        var values = new float[length * channels];
        for (int t = 0; t < length; t++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = t * Math.Exp(-increment * i);
                values[(t * channels) + i] = (float)Math.Sin(angle);
                values[(t * channels) + half + i] = (float)Math.Cos(angle);
            }
        }

        return values;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
