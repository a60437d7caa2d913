using System.Globalization;
using System.Runtime.InteropServices;
using Capa.Models.Onnx;

namespace Capa.TestModels.Vision;

/// <summary>
/// SmolVLM's <c>vision_encoder</c> graph as onnx-community exports it: <c>pixel_values</c> f32 [batch, num_images, 3, S, S]
/// and <c>pixel_attention_mask</c> bool [batch, num_images, S, S] in, <c>image_features</c> [batch × num_images,
/// image_seq_len, text_hidden] out. Inside, a small SigLIP: patch embedding (a strided convolution), learned position
/// embeddings, pre-norm transformer layers whose attention ignores patches with no real pixel (the mask, max-pooled per
/// patch), a post layer norm, then Idefics3's connector: pixel shuffle by <c>scale_factor</c> and a linear projection
/// into the text model's width.
/// </summary>
internal sealed class SmolVlmVisionGraph
{
    private const string Batch = "batch_size", Images = "num_images", Tiles = "num_tiles";

    private readonly SmolVlmTestShapes _s;
    private readonly ulong _seed;
    private readonly OnnxGraphBuilder _g = new();

    private SmolVlmVisionGraph(SmolVlmTestShapes shapes, ulong seed)
    {
        _s = shapes;
        _seed = seed;
    }

    public static OnnxGraph Build(SmolVlmTestShapes shapes, ulong seed) => new SmolVlmVisionGraph(shapes, seed).Build();

    private OnnxGraph Build()
    {
        int size = _s.ImageSize, p = _s.PatchSize, d = _s.VisionHidden, n = _s.Patches, side = _s.PatchesPerSide;
        string pixels = _g.Input("pixel_values", OnnxDataType.Float, Batch, Images, 3, size, size);
        string mask = _g.Input("pixel_attention_mask", OnnxDataType.Bool, Batch, Images, size, size);

        _g.Scope = "/vision_model/embeddings";
        string images = _g.Op("Reshape", [pixels, _g.ConstInt64Vector(-1, 3, size, size)]);
        string convWeight = _g.Initializer("vision_model.embeddings.patch_embedding.weight", OnnxDataType.Float, [d, 3, p, p],
            () => Floats(Weights("vision_model.embeddings.patch_embedding.weight", (long)d * 3 * p * p, 0f, 1f / MathF.Sqrt(3 * p * p))));
        string convBias = Param("vision_model.embeddings.patch_embedding.bias", d, 0f, 0.02f);
        string patches = _g.Op("Conv", [images, convWeight, convBias], OnnxAttribute.Ints("kernel_shape", p, p), OnnxAttribute.Ints("strides", p, p));
        string x = _g.Op("Transpose", [_g.Op("Reshape", [patches, _g.ConstInt64Vector(0, d, n)])], OnnxAttribute.Ints("perm", 0, 2, 1));
        string positions = _g.Initializer("vision_model.embeddings.position_embedding.weight", OnnxDataType.Float, [n, d],
            () => Floats(Weights("vision_model.embeddings.position_embedding.weight", (long)n * d, 0f, 0.5f)));
        x = _g.Op("Add", [x, positions]);

        // A patch takes part in attention when any of its pixels is real (Idefics3's patch_attention_mask).
        _g.Scope = "/vision_model";
        string pixelMask = _g.Op("Reshape", [_g.Op("Cast", [mask], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), _g.ConstInt64Vector(-1, 1, size, size)]);
        string patchMask = _g.Op("MaxPool", [pixelMask], OnnxAttribute.Ints("kernel_shape", p, p), OnnxAttribute.Ints("strides", p, p));
        string keys = _g.Op("Reshape", [patchMask, _g.ConstInt64Vector(-1, 1, 1, n)]);
        // 0 for real patches, -10⁴ for padding: finite, so an all-padding tile still gives a defined softmax.
        string bias = _g.Op("Mul", [_g.Op("Sub", [keys, _g.ConstFloatScalar(1f)]), _g.ConstFloatScalar(10_000f)]);

        for (int i = 0; i < _s.VisionLayers; i++)
        {
            string prefix = Invariant($"vision_model.encoder.layers.{i}.");
            _g.Scope = Invariant($"/vision_model/encoder/layers.{i}");
            string attn = Attention(LayerNorm(x, prefix + "layer_norm1"), prefix + "self_attn.", bias);
            x = _g.Op("Add", [x, attn]);
            string h = Linear(LayerNorm(x, prefix + "layer_norm2"), prefix + "mlp.fc1", _s.VisionIntermediate, d, bias: true);
            h = Linear(GeluTanh(h), prefix + "mlp.fc2", d, _s.VisionIntermediate, bias: true);
            x = _g.Op("Add", [x, h]);
        }

        _g.Scope = "/vision_model/post_layernorm";
        x = LayerNorm(x, "vision_model.post_layernorm");

        // Idefics3Connector.pixel_shuffle: [m, side², d] → [m, side²/s², d·s²], neighbouring patches side by side.
        _g.Scope = "/connector";
        int s = _s.ScaleFactor;
        x = _g.Op("Reshape", [x, _g.ConstInt64Vector(0, side, side / s, d * s)]);
        x = _g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        x = _g.Op("Reshape", [x, _g.ConstInt64Vector(0, side / s, side / s, d * s * s)]);
        x = _g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        x = _g.Op("Reshape", [x, _g.ConstInt64Vector(0, _s.ImageSeqLen, _s.ShuffledWidth)]);

        // The projection gives features the spread of the text embeddings, so image tokens weigh like words.
        int textHidden = _s.Text.Hidden;
        float std = DecoderGraph.EmbeddingStd(_s.Text) / MathF.Sqrt(_s.ShuffledWidth);
        string projection = _g.Initializer("connector.modality_projection.proj.weight.T", OnnxDataType.Float, [_s.ShuffledWidth, textHidden],
            () => WeightQuantizer.TransposeToBytes(Weights("connector.modality_projection.proj.weight", (long)textHidden * _s.ShuffledWidth, 0f, std), textHidden, _s.ShuffledWidth));
        x = _g.Op("MatMul", [x, projection]);
        _g.Output(x, "image_features", OnnxDataType.Float, Tiles, _s.ImageSeqLen, textHidden);
        return _g.Build("main_graph");
    }

    private string Attention(string x, string prefix, string bias)
    {
        int d = _s.VisionHidden, heads = _s.VisionHeads, hd = d / heads;
        string q = Linear(x, prefix + "q_proj", d, d, bias: true);
        string k = Linear(x, prefix + "k_proj", d, d, bias: true);
        string v = Linear(x, prefix + "v_proj", d, d, bias: true);
        q = _g.Op("Transpose", [_g.Op("Reshape", [q, _g.ConstInt64Vector(0, 0, heads, hd)])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        k = _g.Op("Transpose", [_g.Op("Reshape", [k, _g.ConstInt64Vector(0, 0, heads, hd)])], OnnxAttribute.Ints("perm", 0, 2, 3, 1));
        v = _g.Op("Transpose", [_g.Op("Reshape", [v, _g.ConstInt64Vector(0, 0, heads, hd)])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        string scores = _g.Op("MatMul", [_g.Op("Mul", [q, _g.ConstFloatScalar(1f / MathF.Sqrt(hd))]), k]);
        string probs = _g.Op("Softmax", [_g.Op("Add", [scores, bias])], OnnxAttribute.Int("axis", -1));
        string context = _g.Op("Transpose", [_g.Op("MatMul", [probs, v])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
        string merged = _g.Op("Reshape", [context, _g.ConstInt64Vector(0, 0, d)]);
        return Linear(merged, prefix + "out_proj", d, d, bias: true);
    }

    private string LayerNorm(string x, string prefix)
    {
        int d = _s.VisionHidden;
        string scale = Param(prefix + ".weight", d, 1f, 0.1f);
        string shift = Param(prefix + ".bias", d, 0f, 0.1f);
        return _g.Op("LayerNormalization", [x, scale, shift], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-6f));
    }

    /// <summary>GeLU with the tanh approximation (SigLIP's gelu_pytorch_tanh).</summary>
    private string GeluTanh(string x)
    {
        string cube = _g.Op("Mul", [x, _g.Op("Mul", [x, x])]);
        string inner = _g.Op("Add", [x, _g.Op("Mul", [cube, _g.ConstFloatScalar(0.044715f)])]);
        string tanh = _g.Op("Tanh", [_g.Op("Mul", [inner, _g.ConstFloatScalar(0.7978845608f)])]);
        return _g.Op("Mul", [_g.Op("Mul", [x, _g.ConstFloatScalar(0.5f)]), _g.Op("Add", [tanh, _g.ConstFloatScalar(1f)])]);
    }

    /// <summary>x · Wᵀ (+ b) for a PyTorch-layout weight W [n, k].</summary>
    private string Linear(string x, string prefix, int n, int k, bool bias)
    {
        string weightName = prefix + ".weight";
        string w = _g.Initializer(weightName + ".T", OnnxDataType.Float, [k, n],
            () => WeightQuantizer.TransposeToBytes(Weights(weightName, (long)n * k, 0f, 1f / MathF.Sqrt(k)), n, k));
        string y = _g.Op("MatMul", [x, w]);
        return bias ? _g.Op("Add", [y, Param(prefix + ".bias", n, 0f, 0.02f)]) : y;
    }

    private string Param(string name, int count, float mean, float std) =>
        _g.Initializer(name, OnnxDataType.Float, [count], () => Floats(Weights(name, count, mean, std)));

    private float[] Weights(string name, long count, float mean, float std) => WeightGenerator.Normal(_seed, name, count, mean, std);

    private static byte[] Floats(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
