using Capa.Models.Onnx;

namespace Capa.TestModels.Images;

/// <summary>
/// The four graphs of a random-weight Stable Diffusion folder, with the real input and output contract of diffusers' ONNX
/// export and simplified bodies: every output depends on every input (a wiring mistake changes the image).
/// </summary>
internal static class DiffusionGraphs
{
    public const int SequenceLength = 77;

    /// <summary>
    /// CLIP text encoder: <c>input_ids</c> int32 [batch, 77] → <c>last_hidden_state</c> [batch, 77, D], <c>pooler_output</c>
    /// [batch, D]. With <see cref="TextEncoderShape.HiddenStates"/> also <c>hidden_states.0</c> (embeddings) …
    /// <c>hidden_states.L</c> (each layer's output), as Optimum exports SDXL's encoders; with a projection (SDXL's
    /// CLIPTextModelWithProjection) <c>text_embeds</c> [batch, P] in place of <c>pooler_output</c>, first as Optimum orders it.
    /// </summary>
    public static OnnxGraph TextEncoder(DiffusionTestShapes shapes, ulong seed) => TextEncoder(shapes, new TextEncoderShape(shapes.HiddenSize), seed);

    /// <inheritdoc cref="TextEncoder(DiffusionTestShapes, ulong)"/>
    public static OnnxGraph TextEncoder(DiffusionTestShapes shapes, TextEncoderShape encoder, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        int d = encoder.HiddenSize;
        string prefix = encoder.WeightPrefix;
        string ids = g.Input("input_ids", OnnxDataType.Int32, "batch", SequenceLength);
        string table = Weight(g, seed, prefix + "text_model.embeddings.token_embedding.weight", [shapes.VocabSize, d], 1f);
        string positions = Weight(g, seed, prefix + "text_model.embeddings.position_embedding.weight", [SequenceLength, d], 0.5f);
        g.Scope = "/text_model/embeddings";
        string h = g.Op("Add", [g.Op("Gather", [table, g.Op("Cast", [ids], OnnxAttribute.Int("to", (long)OnnxDataType.Int64))]), positions]);
        var hiddenStates = new List<string> { h };

        // A causal running mean stands in for causal self-attention: each position sees the tokens before it.
        string causal = g.Initializer(prefix + "text_model.causal_mean", [SequenceLength, SequenceLength], CausalMean());
        for (int layer = 0; layer < encoder.Layers; layer++)
        {
            g.Scope = $"/text_model/encoder/layers.{layer}";
            string mixed = g.Op("MatMul", [causal, h]);
            string w1 = Weight(g, seed, $"{prefix}text_model.encoder.layers.{layer}.mlp.fc1.weight", [d, d], 1f / MathF.Sqrt(d));
            h = g.Op("Add", [h, g.Op("Tanh", [g.Op("MatMul", [mixed, w1])])]);
            hiddenStates.Add(h);
        }

        g.Scope = "/text_model/final_layer_norm";
        string scale = g.Initializer(prefix + "text_model.final_layer_norm.weight", [d], [.. Enumerable.Repeat(1f, d)]);
        string bias = g.Initializer(prefix + "text_model.final_layer_norm.bias", [d], new float[d]);
        string last = g.Op("LayerNormalization", [h, scale, bias], OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-5f));
        string pooled = g.Op("ReduceMean", [last], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
        if (encoder.Projection is int projection)
        {
            string w = Weight(g, seed, prefix + "text_projection.weight", [d, projection], 1f / MathF.Sqrt(d));
            g.Output(g.Op("MatMul", [pooled, w]), "text_embeds", OnnxDataType.Float, "batch", projection);
            g.Output(last, "last_hidden_state", OnnxDataType.Float, "batch", SequenceLength, d);
        }
        else
        {
            g.Output(last, "last_hidden_state", OnnxDataType.Float, "batch", SequenceLength, d);
            g.Output(pooled, "pooler_output", OnnxDataType.Float, "batch", d);
        }

        if (encoder.HiddenStates)
        {
            for (int i = 0; i < hiddenStates.Count; i++)
            {
                g.Output(hiddenStates[i], $"hidden_states.{i}", OnnxDataType.Float, "batch", SequenceLength, d);
            }
        }

        return g.Build("text_encoder");
    }

    /// <summary>
    /// UNet: <c>sample</c> [batch, 4, h, w] (an inpainting UNet's [batch, 9, h, w]: latents, mask, masked image's latents),
    /// <c>timestep</c> (float scalar as Optimum exports it, or int64 [batch] as diffusers' legacy export),
    /// <c>encoder_hidden_states</c> [batch, 77, D] → <c>out_sample</c> [batch, 4, h, w].
    /// </summary>
    public static OnnxGraph Unet(DiffusionTestShapes shapes, ulong seed, bool int64Timestep, bool inpainting = false) =>
        Unet(shapes, seed, int64Timestep, inpainting, shapes.HiddenSize, null);

    /// <summary>
    /// The UNet with a context <paramref name="contextWidth"/> wide and, for SDXL (<paramref name="xl"/>), the inputs
    /// <c>text_embeds</c> [batch, P] and <c>time_ids</c> [batch, T]: sinusoids of each time id and the text embeddings are
    /// projected and added to the time embedding (a stand-in for diffusers' <c>add_embedding</c>), so both change the image.
    /// </summary>
    public static OnnxGraph Unet(DiffusionTestShapes shapes, ulong seed, bool int64Timestep, bool inpainting, int contextWidth, (int TextEmbeds, int TimeIds)? xl)
    {
        var g = new OnnxGraphBuilder();
        int c = shapes.UnetChannels, d = contextWidth;
        int inChannels = inpainting ? 9 : 4;
        string sample = g.Input("sample", OnnxDataType.Float, "batch", inChannels, "height", "width");
        string timestep = int64Timestep ? g.Input("timestep", OnnxDataType.Int64, "batch") : g.Input("timestep", OnnxDataType.Float);
        string context = g.Input("encoder_hidden_states", OnnxDataType.Float, "batch", SequenceLength, d);
        string? textEmbeds = xl is { } a ? g.Input("text_embeds", OnnxDataType.Float, "batch", a.TextEmbeds) : null;
        string? timeIds = xl is { } b ? g.Input("time_ids", OnnxDataType.Float, "batch", b.TimeIds) : null;

        // Sinusoidal timestep embedding → [b or 1, c, 1, 1].
        g.Scope = "/time_embedding";
        string t = int64Timestep ? g.Op("Cast", [timestep], OnnxAttribute.Int("to", (long)OnnxDataType.Float)) : timestep;
        t = g.Op("Reshape", [t, g.ConstInt64Vector(-1, 1)]);
        const int Frequencies = 8;
        float[] frequencies = [.. Enumerable.Range(0, Frequencies).Select(i => MathF.Exp(-MathF.Log(10000f) * i / Frequencies))];
        string angles = g.Op("Mul", [t, g.Initializer("time_embedding.frequencies", [1, Frequencies], frequencies)]);
        string embedding = g.Op("Concat", [g.Op("Sin", [angles]), g.Op("Cos", [angles])], OnnxAttribute.Int("axis", 1));
        string temb = g.Op("MatMul", [embedding, Weight(g, seed, "time_embedding.linear_1.weight", [2 * Frequencies, c], 0.5f)]);
        if (xl is { } added)
        {
            // diffusers' add_embedding: Timesteps(256) of each time id, flattened, beside the pooled text embeddings.
            g.Scope = "/add_embedding";
            string ids = g.Op("Reshape", [timeIds!, g.ConstInt64Vector(-1, 1)]);
            string idAngles = g.Op("Mul", [ids, g.Initializer("add_time_proj.frequencies", [1, Frequencies], frequencies)]);
            string idEmbedding = g.Op("Concat", [g.Op("Sin", [idAngles]), g.Op("Cos", [idAngles])], OnnxAttribute.Int("axis", 1));
            idEmbedding = g.Op("Reshape", [idEmbedding, g.ConstInt64Vector(-1, added.TimeIds * 2 * Frequencies)]);
            string addInput = g.Op("Concat", [textEmbeds!, idEmbedding], OnnxAttribute.Int("axis", 1));
            int addWidth = added.TextEmbeds + (added.TimeIds * 2 * Frequencies);
            string addEmbedding = g.Op("MatMul", [addInput, Weight(g, seed, "add_embedding.linear_1.weight", [addWidth, c], 1f / MathF.Sqrt(addWidth))]);
            temb = g.Op("Add", [temb, addEmbedding]);
        }

        temb = g.Op("Unsqueeze", [temb, g.ConstInt64Vector(2, 3)]);

        // The prompt's influence: the mean of the encoder states projected to channels (a stand-in for cross-attention).
        g.Scope = "/cross_attention";
        string pooled = g.Op("ReduceMean", [context], OnnxAttribute.Ints("axes", 1), OnnxAttribute.Int("keepdims", 0));
        string ctx = g.Op("MatMul", [pooled, Weight(g, seed, "cross_attention.to_channels.weight", [d, c], 2f / MathF.Sqrt(d))]);
        ctx = g.Op("Unsqueeze", [ctx, g.ConstInt64Vector(2, 3)]);

        g.Scope = "/conv_in";
        string h = Conv(g, seed, "conv_in", sample, inChannels, c);
        h = g.Op("Add", [g.Op("Add", [h, temb]), ctx]);
        h = Silu(g, h);
        g.Scope = "/mid_block";
        h = Silu(g, Conv(g, seed, "mid_block.conv", h, c, c));
        g.Scope = "/conv_out";
        string output = Conv(g, seed, "conv_out", h, c, 4);
        g.Output(output, "out_sample", OnnxDataType.Float, "batch", 4, "height", "width");
        return g.Build("unet");
    }

    /// <summary>VAE decoder: <c>latent_sample</c> [batch, 4, h, w] → <c>sample</c> [batch, 3, 8h, 8w] in about [-1, 1].</summary>
    public static OnnxGraph VaeDecoder(DiffusionTestShapes shapes, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        int c = shapes.VaeChannels;
        string latent = g.Input("latent_sample", OnnxDataType.Float, "batch", 4, "latent_height", "latent_width");
        g.Scope = "/decoder";
        string h = Silu(g, Conv(g, seed, "decoder.conv_in", latent, 4, c));
        h = Conv(g, seed, "decoder.conv_out", h, c, 3 * 64);
        h = g.Op("DepthToSpace", [h], OnnxAttribute.Int("blocksize", 8), OnnxAttribute.String("mode", "DCR"));
        h = g.Op("Tanh", [h]);
        g.Output(h, "sample", OnnxDataType.Float, "batch", 3, "height", "width");
        return g.Build("vae_decoder");
    }

    /// <summary>VAE encoder: <c>sample</c> [batch, 3, H, W] → <c>latent_sample</c> [batch, 4, H/8, W/8].</summary>
    public static OnnxGraph VaeEncoder(DiffusionTestShapes shapes, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        string sample = g.Input("sample", OnnxDataType.Float, "batch", 3, "height", "width");
        g.Scope = "/encoder";
        string h = g.Op("SpaceToDepth", [sample], OnnxAttribute.Int("blocksize", 8));
        h = Conv(g, seed, "encoder.conv_out", h, 3 * 64, 4, kernel: 1);
        g.Output(h, "latent_sample", OnnxDataType.Float, "batch", 4, "latent_height", "latent_width");
        return g.Build("vae_encoder");
    }

    private static string Conv(OnnxGraphBuilder g, ulong seed, string name, string input, int inChannels, int outChannels, int kernel = 3)
    {
        float std = 1f / MathF.Sqrt(inChannels * kernel * kernel);
        string w = Weight(g, seed, name + ".weight", [outChannels, inChannels, kernel, kernel], std);
        string b = Weight(g, seed, name + ".bias", [outChannels], 0.1f);
        int pad = kernel / 2;
        return g.Op("Conv", [input, w, b], OnnxAttribute.Ints("kernel_shape", kernel, kernel), OnnxAttribute.Ints("pads", pad, pad, pad, pad));
    }

    private static string Silu(OnnxGraphBuilder g, string x) => g.Op("Mul", [x, g.Op("Sigmoid", [x])]);

    private static string Weight(OnnxGraphBuilder g, ulong seed, string name, long[] dims, float std)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        return g.Initializer(name, OnnxDataType.Float, dims, () => WeightGenerator.NormalBytes(seed, name, count, 0, std));
    }

    private static float[] CausalMean()
    {
        var values = new float[SequenceLength * SequenceLength];
        for (int i = 0; i < SequenceLength; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                values[(i * SequenceLength) + j] = 1f / (i + 1);
            }
        }

        return values;
    }
}

/// <summary>Sizes of a random-weight diffusion folder.</summary>
internal sealed record DiffusionTestShapes
{
    public required int VocabSize { get; init; }

    public int HiddenSize { get; init; } = 32;

    public int UnetChannels { get; init; } = 16;

    public int VaeChannels { get; init; } = 16;

    /// <summary>Latent side at the native resolution (pixels = 8 ×).</summary>
    public int SampleSize { get; init; } = 8;
}

/// <summary>One tiny text encoder: its width, layers, whether it returns every layer's hidden states, and an optional projection (<c>text_embeds</c>).</summary>
internal sealed record TextEncoderShape(int HiddenSize, int Layers = 1, bool HiddenStates = false, int? Projection = null, string WeightPrefix = "");
