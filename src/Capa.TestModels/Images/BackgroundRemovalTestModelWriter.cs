using Capa.Models.Onnx;

namespace Capa.TestModels.Images;

/// <summary>
/// Writes a random-weight background-removal model in briaai/RMBG-1.4's published layout (<c>onnx/model.onnx</c> with input
/// <c>input</c> [1, 3, S, S] and output <c>output</c> [1, 1, S, S], <c>config.json</c> naming <c>BriaRMBG</c>,
/// <c>preprocessor_config.json</c> with RMBG's normalisation) at a tiny side <c>S</c>. The network is two convolutions whose
/// logits depend on every input channel, so the alpha channel it gives follows the image.
/// </summary>
public static class BackgroundRemovalTestModelWriter
{
    /// <summary>The side of the tiny model's input.</summary>
    public const int TinySide = 32;

    /// <summary>Writes the folder into <paramref name="directory"/> (created if missing); the same seed gives the same bytes.</summary>
    public static TestModelResult Write(string directory, ulong seed = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var g = new OnnxGraphBuilder();
        const int Side = TinySide, Hidden = 8;
        string input = g.Input("input", OnnxDataType.Float, 1, 3, Side, Side);
        g.Scope = "/stage1";
        string h = Conv(g, seed, "stage1", input, 3, Hidden);
        h = g.Op("Tanh", [h]);
        g.Scope = "/side_out";
        h = Conv(g, seed, "side_out", h, Hidden, 1);
        g.Output(h, "output", OnnxDataType.Float, 1, 1, Side, Side);

        var files = new List<string>();
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        OnnxModelWriter.Write(g.Build("rmbg"), Path.Combine(directory, "onnx", "model.onnx"), new OnnxWriteOptions { ProducerName = "capa testmodel" });
        files.Add("onnx/model.onnx");
        File.WriteAllText(Path.Combine(directory, "config.json"), """
            {"_name_or_path": "capa/tiny-rmbg", "architectures": ["BriaRMBG"], "in_ch": 3, "out_ch": 1, "model_type": "SegformerForSemanticSegmentation"}
            """);
        files.Add("config.json");
        File.WriteAllText(Path.Combine(directory, "preprocessor_config.json"), $$"""
            {"do_normalize": true, "do_pad": false, "do_rescale": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5], "feature_extractor_type": "ImageFeatureExtractor", "image_std": [1, 1, 1], "resample": 2, "rescale_factor": 0.00392156862745098, "size": {"width": {{Side}}, "height": {{Side}} } }
            """);
        files.Add("preprocessor_config.json");
        File.WriteAllText(Path.Combine(directory, "README.md"), """
            # Tiny background-removal model, random weights

            Written by `capa testmodel --arch rmbg --size tiny`: briaai/RMBG-1.4's ONNX layout and I/O contract with a two-layer
            network and random weights, so its alpha masks are meaningless patterns that follow the image.
            """);
        files.Add("README.md");
        files.Sort(StringComparer.Ordinal);
        return new TestModelResult(directory, files, files.Sum(f => new FileInfo(Path.Combine(directory, f)).Length), 0);
    }

    private static string Conv(OnnxGraphBuilder g, ulong seed, string name, string input, int inChannels, int outChannels)
    {
        long count = (long)outChannels * inChannels * 9;
        string w = g.Initializer(name + ".weight", OnnxDataType.Float, [outChannels, inChannels, 3, 3], () => WeightGenerator.NormalBytes(seed, name + ".weight", count, 0, 2f / MathF.Sqrt(inChannels * 9)));
        string b = g.Initializer(name + ".bias", OnnxDataType.Float, [outChannels], () => WeightGenerator.NormalBytes(seed, name + ".bias", outChannels, 0, 0.5f));
        return g.Op("Conv", [input, w, b], OnnxAttribute.Ints("kernel_shape", 3, 3), OnnxAttribute.Ints("pads", 1, 1, 1, 1));
    }
}
