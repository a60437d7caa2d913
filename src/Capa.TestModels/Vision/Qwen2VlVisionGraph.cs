using System.Runtime.InteropServices;
using Capa.Models.Onnx;

namespace Capa.TestModels.Vision;

/// <summary>
/// Qwen2-VL's <c>vision_encoder</c> graph with the I/O transformers.js feeds it: <c>pixel_values</c> f32
/// [num_patches, 1176] (each row one 14-pixel patch over two frames, four consecutive rows one 2 × 2 merge block) and
/// <c>grid_thw</c> (Qwen2.5-VL: <c>image_grid_thw</c>) i64 [num_images, 3] in; <c>image_features</c> f32 [num_patches / 4, text_hidden] out. Inside, a small
/// stand-in for the ViT: a linear patch embedding, a term from the grid (so the output depends on every input, as the
/// real tower's 2-D rotary positions make it), a layer norm, then Qwen2-VL's patch merger: four neighbouring patches
/// side by side, an MLP with GeLU, into the text model's width.
/// </summary>
internal sealed class Qwen2VlVisionGraph
{
    private readonly Qwen2VlTestShapes _s;
    private readonly ulong _seed;
    private readonly string _gridName;
    private readonly OnnxGraphBuilder _g = new();

    private Qwen2VlVisionGraph(Qwen2VlTestShapes shapes, ulong seed, string gridName)
    {
        _s = shapes;
        _seed = seed;
        _gridName = gridName;
    }

    /// <summary>Builds the graph; <paramref name="gridName"/> names the grid input (<c>grid_thw</c>, or Qwen2.5-VL's <c>image_grid_thw</c>).</summary>
    public static OnnxGraph Build(Qwen2VlTestShapes shapes, ulong seed, string gridName = "grid_thw") => new Qwen2VlVisionGraph(shapes, seed, gridName).Build();

    private OnnxGraph Build()
    {
        int width = _s.PatchWidth, d = _s.VisionHidden, merged = d * _s.MergeSize * _s.MergeSize, textHidden = _s.Text.Hidden;
        string pixels = _g.Input("pixel_values", OnnxDataType.Float, "num_patches", width);
        string grid = _g.Input(_gridName, OnnxDataType.Int64, "num_images", 3);

        _g.Scope = "/patch_embed";
        string x = _g.Op("Add", [_g.Op("MatMul", [pixels, Weight("patch_embed.proj.weight", width, d, 1f / MathF.Sqrt(width))]), Param("patch_embed.proj.bias", d, 0f, 0.02f)]);

        // The grid's sizes, scaled, times a learned direction: a stand-in for position information.
        _g.Scope = "/rotary_pos_emb";
        string gridSum = _g.Op("ReduceSum", [_g.Op("Cast", [grid], OnnxAttribute.Int("to", (long)OnnxDataType.Float)), _g.ConstInt64Vector(0, 1)], OnnxAttribute.Int("keepdims", 0));
        string gridTerm = _g.Op("Mul", [_g.Op("Mul", [gridSum, _g.ConstFloatScalar(0.05f)]), Param("rotary_pos_emb.direction", d, 0f, 1f)]);
        x = _g.Op("Add", [x, gridTerm]);

        _g.Scope = "/merger";
        string scale = Param("merger.ln_q.weight", d, 1f, 0.1f);
        string shift = Param("merger.ln_q.bias", d, 0f, 0.1f);
        x = _g.Op("LayerNormalization", [x, scale, shift], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-6f));
        x = _g.Op("Reshape", [x, _g.ConstInt64Vector(-1, merged)]);
        x = _g.Op("Add", [_g.Op("MatMul", [x, Weight("merger.mlp.0.weight", merged, merged, 1f / MathF.Sqrt(merged))]), Param("merger.mlp.0.bias", merged, 0f, 0.02f)]);
        x = GeluTanh(x);

        // The projection gives features the spread of the text embeddings, so image tokens weigh like words.
        float std = DecoderGraph.EmbeddingStd(_s.Text) / MathF.Sqrt(merged);
        x = _g.Op("MatMul", [x, Weight("merger.mlp.2.weight", merged, textHidden, std)]);
        _g.Output(x, "image_features", OnnxDataType.Float, "num_image_tokens", textHidden);
        return _g.Build("main_graph");
    }

    private string GeluTanh(string x)
    {
        string cube = _g.Op("Mul", [x, _g.Op("Mul", [x, x])]);
        string inner = _g.Op("Add", [x, _g.Op("Mul", [cube, _g.ConstFloatScalar(0.044715f)])]);
        string tanh = _g.Op("Tanh", [_g.Op("Mul", [inner, _g.ConstFloatScalar(0.7978845608f)])]);
        return _g.Op("Mul", [_g.Op("Mul", [x, _g.ConstFloatScalar(0.5f)]), _g.Op("Add", [tanh, _g.ConstFloatScalar(1f)])]);
    }

    /// <summary>A [k, n] matrix for x · W (the transposed PyTorch weight).</summary>
    private string Weight(string name, int k, int n, float std) =>
        _g.Initializer(name + ".T", OnnxDataType.Float, [k, n],
            () => WeightQuantizer.TransposeToBytes(WeightGenerator.Normal(_seed, name, (long)n * k, 0f, std), n, k));

    private string Param(string name, int count, float mean, float std) =>
        _g.Initializer(name, OnnxDataType.Float, [count], () => MemoryMarshal.AsBytes(WeightGenerator.Normal(_seed, name, count, mean, std).AsSpan()).ToArray());
}
