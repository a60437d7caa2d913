using System.Globalization;
using System.Runtime.InteropServices;
using Capa.Models.Onnx;

namespace Capa.TestModels;

/// <summary>
/// Builds the decoder graph of a family as optimum exports it for transformers.js: inputs <c>input_ids</c>,
/// <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.N.key/value</c>; outputs <c>logits</c> and
/// <c>present.N.key/value</c>. Standard opset-17 operators, plus com.microsoft MatMulNBits for q4.
/// </summary>
internal sealed class DecoderGraph
{
    private const string Batch = "batch_size", Sequence = "sequence_length", Past = "past_sequence_length", Total = "total_sequence_length";

    /// <summary>
    /// Gemma's post-norms scale each block's output by (1 + w); a mean of 4 lets the blocks outweigh the
    /// sqrt(hidden)-scaled input embedding, as in trained checkpoints, so greedy output does not just repeat a token.
    /// </summary>
    private const float PostNormMean = 4f;

    private readonly TestModelShapes _s;
    private readonly TestModelQuant _quant;
    private readonly ulong _seed;
    private readonly bool _embedsInput;
    private readonly int[]? _mropeSection;
    private readonly OnnxGraphBuilder _g = new();
    private readonly Dictionary<string, (string Q, string Scale, string ZeroPoint)> _quantizedActivations = new(StringComparer.Ordinal);

    private DecoderGraph(TestModelShapes shapes, TestModelQuant quant, ulong seed, bool embedsInput, int[]? mropeSection)
    {
        _s = shapes;
        _quant = quant;
        _seed = seed;
        _embedsInput = embedsInput;
        _mropeSection = mropeSection;
    }

    /// <summary>
    /// Builds the graph. With <paramref name="embedsInput"/> the graph takes <c>inputs_embeds</c> [batch, seq, hidden]
    /// instead of <c>input_ids</c>, as vision-language decoders are exported (the embedding lives in its own
    /// <c>embed_tokens</c> graph, see <see cref="EmbeddingGraph"/>). With <paramref name="mropeSection"/> (Qwen2-VL's
    /// <c>rope_scaling.mrope_section</c>, summing to head_dim / 2) <c>position_ids</c> is [3, batch, seq] and each band
    /// of rotary frequencies turns by its own row (temporal, height, width), as multimodal RoPE does.
    /// </summary>
    public static OnnxGraph Build(TestModelShapes shapes, TestModelQuant quant, ulong seed, bool embedsInput = false, int[]? mropeSection = null) =>
        new DecoderGraph(shapes, quant, seed, embedsInput, mropeSection).Build();

    /// <summary>
    /// The standard deviation of the token embedding's random rows. Logits of about unit spread give clear greedy
    /// choices; tied models use a smaller embedding so the residual stream is not dominated by the input token (which
    /// would make greedy output repeat it).
    /// </summary>
    public static float EmbeddingStd(TestModelShapes shapes) => (shapes.TiedEmbeddings ? 1f : 3f) / MathF.Sqrt(shapes.Hidden);

    /// <summary>
    /// The <c>embed_tokens</c> graph of a vision-language export: <c>input_ids</c> → <c>inputs_embeds</c>, with the
    /// same rows (name, seed, spread) the decoder graph would hold.
    /// </summary>
    public static OnnxGraph EmbeddingGraph(TestModelShapes shapes, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        int h = shapes.Hidden;
        string ids = g.Input("input_ids", OnnxDataType.Int64, Batch, Sequence);
        const string name = "model.embed_tokens.weight";
        float std = EmbeddingStd(shapes);
        g.Scope = "/model/embed_tokens";
        g.Initializer(name, OnnxDataType.Float, [shapes.VocabSize, h], () => WeightGenerator.NormalBytes(seed, name, (long)shapes.VocabSize * h, 0f, std));
        string x = g.Op("Gather", [name, ids]);
        if (shapes.IsGemma)
        {
            x = g.Op("Mul", [x, g.ConstFloatScalar(MathF.Sqrt(h))]);
        }

        g.Output(x, "inputs_embeds", OnnxDataType.Float, Batch, Sequence, h);
        return g.Build("main_graph");
    }

    private OnnxGraph Build()
    {
        int h = _s.Hidden, kvh = _s.KvHeads, d = _s.HeadDim;
        string inputIds = _embedsInput
            ? _g.Input("inputs_embeds", OnnxDataType.Float, Batch, Sequence, h)
            : _g.Input("input_ids", OnnxDataType.Int64, Batch, Sequence);
        string attentionMask = _g.Input("attention_mask", OnnxDataType.Int64, Batch, Total);
        string positionIds = _mropeSection is null
            ? _g.Input("position_ids", OnnxDataType.Int64, Batch, Sequence)
            : _g.Input("position_ids", OnnxDataType.Int64, 3, Batch, Sequence);
        var pastKeys = new string[_s.Layers];
        var pastValues = new string[_s.Layers];
        for (int i = 0; i < _s.Layers; i++)
        {
            pastKeys[i] = _g.Input(Invariant($"past_key_values.{i}.key"), OnnxDataType.Float, Batch, kvh, Past, d);
            pastValues[i] = _g.Input(Invariant($"past_key_values.{i}.value"), OnnxDataType.Float, Batch, kvh, Past, d);
        }

        _g.Scope = "/model/embed_tokens";
        string embedName = "model.embed_tokens.weight";
        float embedStd = EmbeddingStd(_s);
        string x;
        if (_embedsInput)
        {
            // The embeddings arrive computed (and scaled, for Gemma); a tied head still needs the matrix.
            x = inputIds;
            if (_s.TiedEmbeddings)
            {
                _g.Initializer(embedName, OnnxDataType.Float, [_s.VocabSize, h], () => WeightGenerator.NormalBytes(_seed, embedName, (long)_s.VocabSize * h, 0f, embedStd));
            }
        }
        else
        {
            _g.Initializer(embedName, OnnxDataType.Float, [_s.VocabSize, h], () => WeightGenerator.NormalBytes(_seed, embedName, (long)_s.VocabSize * h, 0f, embedStd));
            x = _g.Op("Gather", [embedName, inputIds]);
            if (_s.IsGemma)
            {
                x = _g.Op("Mul", [x, _g.ConstFloatScalar(MathF.Sqrt(h))]);
            }
        }

        _g.Scope = "/model";
        string bias = AttentionBias(inputIds, attentionMask);
        (string cos, string sin) = RotaryTables(positionIds);

        for (int i = 0; i < _s.Layers; i++)
        {
            string p = Invariant($"model.layers.{i}.");
            _g.Scope = Invariant($"/model/layers.{i}");
            string residual = x;
            string normed = RmsNorm(x, p + "input_layernorm.weight");
            (string attn, string presentKey, string presentValue) = Attention(normed, p + "self_attn.", pastKeys[i], pastValues[i], bias, cos, sin);
            _g.Output(presentKey, Invariant($"present.{i}.key"), OnnxDataType.Float, Batch, kvh, Total, d);
            _g.Output(presentValue, Invariant($"present.{i}.value"), OnnxDataType.Float, Batch, kvh, Total, d);
            if (_s.IsGemma)
            {
                attn = RmsNorm(attn, p + "post_attention_layernorm.weight", PostNormMean);
            }

            x = _g.Op("Add", [residual, attn]);
            residual = x;
            normed = RmsNorm(x, p + (_s.IsGemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"));
            string mlp = Mlp(normed, p + "mlp.");
            if (_s.IsGemma)
            {
                mlp = RmsNorm(mlp, p + "post_feedforward_layernorm.weight", PostNormMean);
            }

            x = _g.Op("Add", [residual, mlp]);
        }

        _g.Scope = "/model/norm";
        x = RmsNorm(x, "model.norm.weight");
        _g.Scope = "/lm_head";
        string logits = LmHead(x, inputIds, embedName, embedStd);
        if (_s.IsGemma)
        {
            logits = SoftCap(logits, _s.FinalSoftcap);
        }

        _g.Output(logits, "logits", OnnxDataType.Float, Batch, Sequence, _s.VocabSize);
        return _g.Build("main_graph");
    }

    /// <summary>
    /// [batch, 1, seq, total] additive mask: 0 where query i (absolute position past + i) may attend key j
    /// (j ≤ past + i and attention_mask[j] = 1), the lowest float elsewhere, as transformers builds it.
    /// </summary>
    private string AttentionBias(string inputIds, string attentionMask)
    {
        string zero = _g.ConstInt64Scalar(0), one = _g.ConstInt64Scalar(1), index1 = _g.ConstInt64Scalar(1);
        string seq = _g.Op("Gather", [_g.Op("Shape", [inputIds]), index1], OnnxAttribute.Int("axis", 0));
        string total = _g.Op("Gather", [_g.Op("Shape", [attentionMask]), index1], OnnxAttribute.Int("axis", 0));
        string past = _g.Op("Sub", [total, seq]);
        string keyPositions = _g.Op("Range", [zero, total, one]);
        string queryPositions = _g.Op("Unsqueeze", [_g.Op("Range", [past, total, one]), _g.ConstInt64Vector(1)]);
        string causal = _g.Op("LessOrEqual", [keyPositions, queryPositions]);
        string padding = _g.Op("Unsqueeze", [_g.Op("Cast", [attentionMask], OnnxAttribute.Int("to", (long)OnnxDataType.Bool)), _g.ConstInt64Vector(1, 2)]);
        string allowed = _g.Op("And", [causal, padding]);
        return _g.Op("Where", [allowed, _g.ConstFloatScalar(0f), _g.ConstFloatScalar(float.MinValue)]);
    }

    /// <summary>cos and sin of position × inverse frequency, [batch, 1, seq, head_dim], in the half-rotation layout.</summary>
    private (string Cos, string Sin) RotaryTables(string positionIds)
    {
        int half = _s.HeadDim / 2;
        var invFreq = new float[half];
        for (int i = 0; i < half; i++)
        {
            invFreq[i] = (float)(1.0 / Math.Pow(_s.RopeTheta, 2.0 * i / _s.HeadDim));
        }

        string inv = _g.Initializer("model.rotary_emb.inv_freq", [half], invFreq);
        string freqs;
        if (_mropeSection is { } section)
        {
            // [3, batch, seq, half]: every row's angles; a one-hot band mask keeps, per frequency, the angle of the row
            // its band belongs to, and the sum over rows (two exact zeros added) selects it.
            string all = _g.Op("Mul", [_g.Op("Unsqueeze", [_g.Op("Cast", [positionIds], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), _g.ConstInt64Vector(3)]), inv]);
            var bands = new float[3 * half];
            for (int row = 0, start = 0; row < 3; start += section[row], row++)
            {
                for (int i = start; i < start + section[row]; i++)
                {
                    bands[(row * half) + i] = 1f;
                }
            }

            string mask = _g.Initializer("model.rotary_emb.mrope_bands", [3, 1, 1, half], bands);
            freqs = _g.Op("ReduceSum", [_g.Op("Mul", [all, mask]), _g.ConstInt64Vector(0)], OnnxAttribute.Int("keepdims", 0));
        }
        else
        {
            string positions = _g.Op("Unsqueeze", [_g.Op("Cast", [positionIds], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), _g.ConstInt64Vector(2)]);
            freqs = _g.Op("Mul", [positions, inv]);
        }

        string emb = _g.Op("Concat", [freqs, freqs], OnnxAttribute.Int("axis", -1));
        string axis1 = _g.ConstInt64Vector(1);
        return (_g.Op("Unsqueeze", [_g.Op("Cos", [emb]), axis1]), _g.Op("Unsqueeze", [_g.Op("Sin", [emb]), axis1]));
    }

    private string RmsNorm(string x, string weightName, float gemmaMean = 0f)
    {
        int h = _s.Hidden;
        // Gemma stores w and scales by (1 + w); the others store w near 1.
        float mean = _s.IsGemma ? gemmaMean : 1f;
        string weight = _g.Initializer(weightName, OnnxDataType.Float, [h], () => Floats(Weights(weightName, h, mean, 0.1f)));
        if (_s.IsGemma)
        {
            weight = _g.Op("Add", [_g.ConstFloatScalar(1f), weight]);
        }

        string variance = _g.Op("ReduceMean", [_g.Op("Pow", [x, _g.ConstFloatScalar(2f)])], OnnxAttribute.Ints("axes", -1), OnnxAttribute.Int("keepdims", 1));
        string rms = _g.Op("Sqrt", [_g.Op("Add", [variance, _g.ConstFloatScalar(_s.RmsEps)])]);
        return _g.Op("Mul", [_g.Op("Div", [x, rms]), weight]);
    }

    private (string Output, string PresentKey, string PresentValue) Attention(
        string x, string prefix, string pastKey, string pastValue, string bias, string cos, string sin)
    {
        int h = _s.Hidden, nh = _s.Heads, kvh = _s.KvHeads, d = _s.HeadDim;
        float projStd = 1f / MathF.Sqrt(h);
        string q, k, v;
        if (_s.FusedProjections)
        {
            int rows = (nh + 2 * kvh) * d;
            string qkv = Linear(x, prefix + "qkv_proj.weight", rows, h, projStd);
            string[] parts = _g.OpIn("", "Split", [qkv, _g.ConstInt64Vector(nh * d, kvh * d, kvh * d)], 3, OnnxAttribute.Int("axis", -1));
            (q, k, v) = (parts[0], parts[1], parts[2]);
        }
        else
        {
            q = Linear(x, prefix + "q_proj.weight", nh * d, h, projStd);
            k = Linear(x, prefix + "k_proj.weight", kvh * d, h, projStd);
            v = Linear(x, prefix + "v_proj.weight", kvh * d, h, projStd);
            if (_s.QkvBias)
            {
                q = AddBias(q, prefix + "q_proj.bias", nh * d);
                k = AddBias(k, prefix + "k_proj.bias", kvh * d);
                v = AddBias(v, prefix + "v_proj.bias", kvh * d);
            }
        }

        string perm = "perm";
        q = _g.Op("Transpose", [_g.Op("Reshape", [q, _g.ConstInt64Vector(0, 0, nh, d)])], OnnxAttribute.Ints(perm, 0, 2, 1, 3));
        k = _g.Op("Transpose", [_g.Op("Reshape", [k, _g.ConstInt64Vector(0, 0, kvh, d)])], OnnxAttribute.Ints(perm, 0, 2, 1, 3));
        v = _g.Op("Transpose", [_g.Op("Reshape", [v, _g.ConstInt64Vector(0, 0, kvh, d)])], OnnxAttribute.Ints(perm, 0, 2, 1, 3));
        q = Rotate(q, cos, sin);
        k = Rotate(k, cos, sin);
        string presentKey = _g.Op("Concat", [pastKey, k], OnnxAttribute.Int("axis", 2));
        string presentValue = _g.Op("Concat", [pastValue, v], OnnxAttribute.Int("axis", 2));

        // Grouped-query attention without copying K/V: query heads h = kv * groups + g, so viewing q as
        // [batch, kv_heads, groups * seq, head_dim] lines each group up with its shared key/value head.
        float scale = _s.IsGemma ? 1f / MathF.Sqrt(_s.QueryPreAttnScalar) : 1f / MathF.Sqrt(d);
        string scaled = _g.Op("Mul", [q, _g.ConstFloatScalar(scale)]);
        string grouped = _g.Op("Reshape", [scaled, _g.ConstInt64Vector(0, kvh, -1, d)]);
        string keysT = _g.Op("Transpose", [presentKey], OnnxAttribute.Ints(perm, 0, 1, 3, 2));
        string scores = _g.Op("Reshape", [_g.Op("MatMul", [grouped, keysT]), _g.ConstInt64Vector(0, nh, -1, 0)]);
        if (_s.IsGemma)
        {
            scores = SoftCap(scores, _s.AttentionSoftcap);
        }

        string probs = _g.Op("Softmax", [_g.Op("Add", [scores, bias])], OnnxAttribute.Int("axis", -1));
        string groupedProbs = _g.Op("Reshape", [probs, _g.ConstInt64Vector(0, kvh, -1, 0)]);
        string context = _g.Op("Reshape", [_g.Op("MatMul", [groupedProbs, presentValue]), _g.ConstInt64Vector(0, nh, -1, 0)]);
        string merged = _g.Op("Reshape", [_g.Op("Transpose", [context], OnnxAttribute.Ints(perm, 0, 2, 1, 3)), _g.ConstInt64Vector(0, 0, nh * d)]);
        string output = Linear(merged, prefix + "o_proj.weight", h, nh * d, 1f / MathF.Sqrt(nh * d));
        return (output, presentKey, presentValue);
    }

    /// <summary>x·cos + rotate_half(x)·sin, rotate_half(x) = concat(−x₂, x₁) over the two halves of head_dim.</summary>
    private string Rotate(string x, string cos, string sin)
    {
        string[] halves = _g.OpIn("", "Split", [x], 2, OnnxAttribute.Int("axis", -1));
        string rotated = _g.Op("Concat", [_g.Op("Neg", [halves[1]]), halves[0]], OnnxAttribute.Int("axis", -1));
        return _g.Op("Add", [_g.Op("Mul", [x, cos]), _g.Op("Mul", [rotated, sin])]);
    }

    private string Mlp(string x, string prefix)
    {
        int h = _s.Hidden, i = _s.Intermediate;
        float inStd = 1f / MathF.Sqrt(h);
        string gate, up;
        if (_s.FusedProjections)
        {
            string both = Linear(x, prefix + "gate_up_proj.weight", 2 * i, h, inStd);
            string[] parts = _g.OpIn("", "Split", [both], 2, OnnxAttribute.Int("axis", -1));
            (gate, up) = (parts[0], parts[1]);
        }
        else
        {
            gate = Linear(x, prefix + "gate_proj.weight", i, h, inStd);
            up = Linear(x, prefix + "up_proj.weight", i, h, inStd);
        }

        string activated = _s.IsGemma ? GeluTanh(gate) : _g.Op("Mul", [gate, _g.Op("Sigmoid", [gate])]);
        return Linear(_g.Op("Mul", [activated, up]), prefix + "down_proj.weight", h, i, 1f / MathF.Sqrt(i));
    }

    /// <summary>GeLU with the tanh approximation (gelu_pytorch_tanh): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private string GeluTanh(string x)
    {
        string cube = _g.Op("Mul", [x, _g.Op("Mul", [x, x])]);
        string inner = _g.Op("Add", [x, _g.Op("Mul", [cube, _g.ConstFloatScalar(0.044715f)])]);
        string tanh = _g.Op("Tanh", [_g.Op("Mul", [inner, _g.ConstFloatScalar(0.7978845608f)])]);
        string onePlus = _g.Op("Add", [tanh, _g.ConstFloatScalar(1f)]);
        return _g.Op("Mul", [_g.Op("Mul", [x, _g.ConstFloatScalar(0.5f)]), onePlus]);
    }

    private string SoftCap(string x, float cap) =>
        _g.Op("Mul", [_g.Op("Tanh", [_g.Op("Div", [x, _g.ConstFloatScalar(cap)])]), _g.ConstFloatScalar(cap)]);

    private string LmHead(string x, string inputIds, string embedName, float embedStd)
    {
        int h = _s.Hidden, vocab = _s.VocabSize;
        if (!_s.TiedEmbeddings)
        {
            return Linear(x, "lm_head.weight", vocab, h, embedStd);
        }

        if (_quant != TestModelQuant.Fp32)
        {
            // Quantized exports keep a quantized copy of the tied matrix for the head; the Gather stays float.
            return Linear(x, embedName, vocab, h, embedStd, initializerPrefix: "lm_head.");
        }

        // Gemm with transB reads the tied [vocab, hidden] embedding in place instead of storing its transpose.
        string flat = _g.Op("Reshape", [x, _g.ConstInt64Vector(-1, h)]);
        string product = _g.Op("Gemm", [flat, embedName], OnnxAttribute.Int("transB", 1));
        // [batch, seq] of the input (input_ids, or the first two axes of inputs_embeds).
        string leading = _embedsInput
            ? _g.Op("Shape", [inputIds], OnnxAttribute.Int("start", 0), OnnxAttribute.Int("end", 2))
            : _g.Op("Shape", [inputIds]);
        string shape = _g.Op("Concat", [leading, _g.ConstInt64Vector(vocab)], OnnxAttribute.Int("axis", 0));
        return _g.Op("Reshape", [product, shape]);
    }

    private string AddBias(string x, string name, int n) =>
        _g.Op("Add", [x, _g.Initializer(name, OnnxDataType.Float, [n], () => Floats(Weights(name, n, 0f, 0.1f)))]);

    /// <summary>x · Wᵀ for a PyTorch-layout weight W [n, k], in the file's weight format.</summary>
    private string Linear(string x, string weightName, int n, int k, float std, string initializerPrefix = "")
    {
        Func<float[]> weight = () => Weights(weightName, (long)n * k, 0f, std);
        string stem = initializerPrefix + weightName;
        switch (_quant)
        {
            case TestModelQuant.Fp32:
                {
                    string w = _g.Initializer(stem + ".T", OnnxDataType.Float, [k, n], () => WeightQuantizer.TransposeToBytes(weight(), n, k));
                    return _g.Op("MatMul", [x, w]);
                }

            case TestModelQuant.Q4:
                {
                    var parts = new TakeOnce<(byte[] Packed, float[] Scales)>(() => WeightQuantizer.QuantizeQ4(weight(), n, k));
                    int blocks = k / WeightQuantizer.Q4BlockSize;
                    string b = _g.Initializer(stem + "_Q4", OnnxDataType.UInt8, [n, blocks, WeightQuantizer.Q4BlockSize / 2], () => parts.Take().Packed);
                    string scales = _g.Initializer(stem + "_scales", OnnxDataType.Float, [(long)n * blocks], () => Floats(parts.Take().Scales));
                    return _g.OpIn("com.microsoft", "MatMulNBits", [x, b, scales], 1,
                        OnnxAttribute.Int("K", k), OnnxAttribute.Int("N", n), OnnxAttribute.Int("bits", 4),
                        OnnxAttribute.Int("block_size", WeightQuantizer.Q4BlockSize), OnnxAttribute.Int("accuracy_level", 0))[0];
                }

            case TestModelQuant.Int8:
                {
                    var parts = new TakeOnce<(byte[] Quantized, float[] Scales)>(() => WeightQuantizer.QuantizeInt8(weight(), n, k));
                    string b = _g.Initializer(stem + "_quantized", OnnxDataType.Int8, [k, n], () => parts.Take().Quantized);
                    string wScale = _g.Initializer(stem + "_scale", OnnxDataType.Float, [n], () => Floats(parts.Take().Scales));
                    if (!_quantizedActivations.TryGetValue(x, out var a))
                    {
                        string[] dq = _g.OpIn("", "DynamicQuantizeLinear", [x], 3);
                        a = (dq[0], dq[1], dq[2]);
                        _quantizedActivations.Add(x, a);
                    }

                    string product = _g.Op("MatMulInteger", [a.Q, b, a.ZeroPoint]);
                    string asFloat = _g.Op("Cast", [product], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
                    return _g.Op("Mul", [asFloat, _g.Op("Mul", [a.Scale, wScale])]);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(_quant));
        }
    }

    private float[] Weights(string name, long count, float mean, float std) => WeightGenerator.Normal(_seed, name, count, mean, std);

    private static byte[] Floats(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Computes a value for two initializers written one after the other, and drops it once both took it.</summary>
    private sealed class TakeOnce<T>(Func<T> compute)
    {
        private T? _value;
        private int _taken;

        public T Take()
        {
            if (_taken == 0)
            {
                _value = compute();
            }

            T value = _value!;
            if (++_taken == 2)
            {
                _value = default;
                _taken = 0;
            }

            return value;
        }
    }
}
