using Capa.Models.Onnx;

namespace Capa.TestModels.Images;

/// <summary>
/// SD-Turbo's networks (Stable Diffusion 2.1 base) at their real shapes, with random float32 weights, as Optimum's ONNX
/// export lays them out for the CPU: the OpenCLIP ViT-H text encoder cut to the 23 layers SD 2 reads, the UNet with its
/// real block structure and widths, and the VAE decoder and encoder. Linear layers are <c>MatMul</c> on [in, out] weights,
/// group norms are <c>InstanceNormalization</c> over reshaped groups, attention is MatMul–Softmax–MatMul per head, as
/// torch's exporter writes them; ONNX Runtime's graph optimizer sees the patterns it sees in the published files.
/// </summary>
internal static class SdTurboGraphs
{
    private const int Groups = 32;
    private const int HeadDim = 64;

    /// <summary>CLIP ViT-H text encoder: <c>input_ids</c> int32 [batch, 77] → <c>last_hidden_state</c> [batch, 77, 1024], <c>pooler_output</c>.</summary>
    public static OnnxGraph TextEncoder(SdTurboShapes s, ulong seed)
    {
        var b = new Builder(new OnnxGraphBuilder(), seed);
        var g = b.G;
        int d = s.TextHidden, length = s.TextLength;
        string ids = g.Input("input_ids", OnnxDataType.Int32, "batch", length);
        g.Scope = "/text_model/embeddings";
        string table = b.Weight("text_model.embeddings.token_embedding.weight", [s.TextVocab, d], 0.02f);
        string positions = b.Weight("text_model.embeddings.position_embedding.weight", [length, d], 0.01f);
        string h = g.Op("Add", [g.Op("Gather", [table, g.Op("Cast", [ids], OnnxAttribute.Int("to", (long)OnnxDataType.Int64))]), positions]);
        var mask = new float[length * length];
        for (int i = 0; i < length; i++)
        {
            for (int j = i + 1; j < length; j++)
            {
                mask[(i * length) + j] = float.MinValue;
            }
        }

        string causal = g.Initializer("text_model.causal_attention_mask", [length, length], mask);
        for (int layer = 0; layer < s.TextLayers; layer++)
        {
            string p = $"text_model.encoder.layers.{layer}";
            g.Scope = "/" + p.Replace('.', '/');
            string x = b.LayerNorm(p + ".layer_norm1", h, d, 1e-5f);
            h = g.Op("Add", [h, b.Attention(p + ".self_attn", x, x, d, d, d / HeadDim, projectionBias: true, causal, outName: "out_proj")]);
            x = b.LayerNorm(p + ".layer_norm2", h, d, 1e-5f);
            x = b.Linear(p + ".mlp.fc2", b.Gelu(b.Linear(p + ".mlp.fc1", x, d, s.TextIntermediate)), s.TextIntermediate, d);
            h = g.Op("Add", [h, x]);
        }

        g.Scope = "/text_model/final_layer_norm";
        h = b.LayerNorm("text_model.final_layer_norm", h, d, 1e-5f);
        g.Output(h, "last_hidden_state", OnnxDataType.Float, "batch", length, d);

        // CLIP pools at the end-of-text token, the largest id of the vocabulary.
        g.Scope = "/text_model/pooler";
        string eos = g.Op("ArgMax", [ids], OnnxAttribute.Int("axis", 1), OnnxAttribute.Int("keepdims", 1));
        string pooled = g.Op("GatherND", [h, eos], OnnxAttribute.Int("batch_dims", 1));
        g.Output(pooled, "pooler_output", OnnxDataType.Float, "batch", d);
        return g.Build("text_encoder");
    }

    /// <summary>
    /// UNet2DConditionModel of SD 2.1: <c>sample</c> [batch, 4, h, w], <c>timestep</c>, <c>encoder_hidden_states</c>
    /// [batch, 77, 1024] → <c>out_sample</c> [batch, 4, h, w].
    /// </summary>
    public static OnnxGraph Unet(SdTurboShapes s, ulong seed, bool int64Timestep)
    {
        var b = new Builder(new OnnxGraphBuilder(), seed);
        var g = b.G;
        int[] widths = s.UnetWidths;
        int tembWidth = widths[0] * 4;
        string sample = g.Input("sample", OnnxDataType.Float, "batch", 4, "height", "width");
        string timestep = int64Timestep ? g.Input("timestep", OnnxDataType.Int64, "batch") : g.Input("timestep", OnnxDataType.Float);
        string context = g.Input("encoder_hidden_states", OnnxDataType.Float, "batch", s.TextLength, s.TextHidden);

        // diffusers' Timesteps(320, flip_sin_to_cos=True, downscale_freq_shift=0), then TimestepEmbedding(320, 1280).
        g.Scope = "/time_proj";
        string t = int64Timestep ? g.Op("Cast", [timestep], OnnxAttribute.Int("to", (long)OnnxDataType.Float)) : timestep;
        t = g.Op("Reshape", [t, g.ConstInt64Vector(-1, 1)]);
        int half = widths[0] / 2;
        float[] frequencies = [.. Enumerable.Range(0, half).Select(i => MathF.Exp(-MathF.Log(10000f) * i / half))];
        string angles = g.Op("Mul", [t, g.Initializer("time_proj.frequencies", [1, half], frequencies)]);
        string temb = g.Op("Concat", [g.Op("Cos", [angles]), g.Op("Sin", [angles])], OnnxAttribute.Int("axis", 1));
        g.Scope = "/time_embedding";
        temb = b.Linear("time_embedding.linear_2", b.Silu(b.Linear("time_embedding.linear_1", temb, widths[0], tembWidth)), tembWidth, tembWidth);
        string tembAct = b.Silu(temb);

        g.Scope = "/conv_in";
        string h = b.Conv("conv_in", sample, 4, widths[0]);
        var skips = new Stack<(string Value, int Channels)>();
        skips.Push((h, widths[0]));
        int channels = widths[0];
        for (int block = 0; block < widths.Length; block++)
        {
            bool attention = block < widths.Length - 1;
            for (int layer = 0; layer < s.UnetLayersPerBlock; layer++)
            {
                string p = $"down_blocks.{block}";
                g.Scope = $"/down_blocks.{block}/resnets.{layer}";
                h = b.Resnet($"{p}.resnets.{layer}", h, channels, widths[block], tembAct, tembWidth, 1e-5f);
                channels = widths[block];
                if (attention)
                {
                    g.Scope = $"/down_blocks.{block}/attentions.{layer}";
                    h = b.Transformer($"{p}.attentions.{layer}", h, channels, context, s.TextHidden);
                }

                skips.Push((h, channels));
            }

            if (block < widths.Length - 1)
            {
                g.Scope = $"/down_blocks.{block}/downsamplers.0";
                h = b.Conv($"down_blocks.{block}.downsamplers.0.conv", h, channels, channels, stride: 2);
                skips.Push((h, channels));
            }
        }

        g.Scope = "/mid_block";
        h = b.Resnet("mid_block.resnets.0", h, channels, channels, tembAct, tembWidth, 1e-5f);
        h = b.Transformer("mid_block.attentions.0", h, channels, context, s.TextHidden);
        h = b.Resnet("mid_block.resnets.1", h, channels, channels, tembAct, tembWidth, 1e-5f);

        for (int block = 0; block < widths.Length; block++)
        {
            int width = widths[widths.Length - 1 - block];
            bool attention = block > 0;
            for (int layer = 0; layer <= s.UnetLayersPerBlock; layer++)
            {
                string p = $"up_blocks.{block}";
                (string skip, int skipChannels) = skips.Pop();
                g.Scope = $"/up_blocks.{block}/resnets.{layer}";
                h = g.Op("Concat", [h, skip], OnnxAttribute.Int("axis", 1));
                h = b.Resnet($"{p}.resnets.{layer}", h, channels + skipChannels, width, tembAct, tembWidth, 1e-5f);
                channels = width;
                if (attention)
                {
                    g.Scope = $"/up_blocks.{block}/attentions.{layer}";
                    h = b.Transformer($"{p}.attentions.{layer}", h, channels, context, s.TextHidden);
                }
            }

            if (block < widths.Length - 1)
            {
                g.Scope = $"/up_blocks.{block}/upsamplers.0";
                h = b.Conv($"up_blocks.{block}.upsamplers.0.conv", b.Upsample(h), channels, channels);
            }
        }

        g.Scope = "/conv_out";
        h = b.Silu(b.GroupNorm("conv_norm_out", h, channels, 1e-5f));
        h = b.Conv("conv_out", h, channels, 4);
        g.Output(h, "out_sample", OnnxDataType.Float, "batch", 4, "height", "width");
        return g.Build("unet");
    }

    /// <summary>AutoencoderKL decoder (with post_quant_conv): <c>latent_sample</c> [batch, 4, h, w] → <c>sample</c> [batch, 3, 8h, 8w].</summary>
    public static OnnxGraph VaeDecoder(SdTurboShapes s, ulong seed)
    {
        var b = new Builder(new OnnxGraphBuilder(), seed);
        var g = b.G;
        int[] widths = s.VaeWidths;
        string latent = g.Input("latent_sample", OnnxDataType.Float, "batch", 4, "latent_height", "latent_width");
        g.Scope = "/post_quant_conv";
        string h = b.Conv("post_quant_conv", latent, 4, 4, kernel: 1);
        int channels = widths[^1];
        g.Scope = "/decoder/conv_in";
        h = b.Conv("decoder.conv_in", h, 4, channels);
        g.Scope = "/decoder/mid_block";
        h = VaeMid(b, "decoder.mid_block", h, channels);
        for (int block = 0; block < widths.Length; block++)
        {
            int width = widths[widths.Length - 1 - block];
            for (int layer = 0; layer <= s.VaeLayersPerBlock; layer++)
            {
                g.Scope = $"/decoder/up_blocks.{block}/resnets.{layer}";
                h = b.Resnet($"decoder.up_blocks.{block}.resnets.{layer}", h, channels, width, null, 0, 1e-6f);
                channels = width;
            }

            if (block < widths.Length - 1)
            {
                g.Scope = $"/decoder/up_blocks.{block}/upsamplers.0";
                h = b.Conv($"decoder.up_blocks.{block}.upsamplers.0.conv", b.Upsample(h), channels, channels);
            }
        }

        g.Scope = "/decoder/conv_out";
        h = b.Silu(b.GroupNorm("decoder.conv_norm_out", h, channels, 1e-6f));
        h = b.Conv("decoder.conv_out", h, channels, 3);
        g.Output(h, "sample", OnnxDataType.Float, "batch", 3, "height", "width");
        return g.Build("vae_decoder");
    }

    /// <summary>
    /// AutoencoderKL encoder (with quant_conv): <c>sample</c> [batch, 3, H, W] → <c>latent_parameters</c> [batch, 8, H/8, W/8],
    /// the mean and log-variance as Optimum's export returns them.
    /// </summary>
    public static OnnxGraph VaeEncoder(SdTurboShapes s, ulong seed)
    {
        var b = new Builder(new OnnxGraphBuilder(), seed);
        var g = b.G;
        int[] widths = s.VaeWidths;
        string sample = g.Input("sample", OnnxDataType.Float, "batch", 3, "height", "width");
        g.Scope = "/encoder/conv_in";
        string h = b.Conv("encoder.conv_in", sample, 3, widths[0]);
        int channels = widths[0];
        for (int block = 0; block < widths.Length; block++)
        {
            for (int layer = 0; layer < s.VaeLayersPerBlock; layer++)
            {
                g.Scope = $"/encoder/down_blocks.{block}/resnets.{layer}";
                h = b.Resnet($"encoder.down_blocks.{block}.resnets.{layer}", h, channels, widths[block], null, 0, 1e-6f);
                channels = widths[block];
            }

            if (block < widths.Length - 1)
            {
                // diffusers pads right and bottom by one, then a stride-2 convolution without padding.
                g.Scope = $"/encoder/down_blocks.{block}/downsamplers.0";
                h = b.Conv($"encoder.down_blocks.{block}.downsamplers.0.conv", h, channels, channels, stride: 2, pads: [0, 0, 1, 1]);
            }
        }

        g.Scope = "/encoder/mid_block";
        h = VaeMid(b, "encoder.mid_block", h, channels);
        g.Scope = "/encoder/conv_out";
        h = b.Silu(b.GroupNorm("encoder.conv_norm_out", h, channels, 1e-6f));
        h = b.Conv("encoder.conv_out", h, channels, 8);
        g.Scope = "/quant_conv";
        h = b.Conv("quant_conv", h, 8, 8, kernel: 1);
        g.Output(h, "latent_parameters", OnnxDataType.Float, "batch", 8, "latent_height", "latent_width");
        return g.Build("vae_encoder");
    }

    private static string VaeMid(Builder b, string prefix, string h, int channels)
    {
        var g = b.G;
        h = b.Resnet(prefix + ".resnets.0", h, channels, channels, null, 0, 1e-6f);

        // One head over all channels, with biases, on the group-normed map; residual around it.
        string x = b.GroupNorm(prefix + ".attentions.0.group_norm", h, channels, 1e-6f);
        string shape = g.Op("Shape", [h]);
        x = g.Op("Transpose", [g.Op("Reshape", [x, g.ConstInt64Vector(0, channels, -1)])], OnnxAttribute.Ints("perm", 0, 2, 1));
        x = b.Attention(prefix + ".attentions.0", x, x, channels, channels, 1, projectionBias: true, mask: null, outName: "to_out.0");
        x = g.Op("Reshape", [g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1)), shape]);
        h = g.Op("Add", [h, x]);
        return b.Resnet(prefix + ".resnets.1", h, channels, channels, null, 0, 1e-6f);
    }

    /// <summary>The layers' building blocks, each adding its weights under diffusers' parameter names.</summary>
    private sealed class Builder(OnnxGraphBuilder g, ulong seed)
    {
        public OnnxGraphBuilder G { get; } = g;

        public string Weight(string name, long[] dims, float std)
        {
            long count = dims.Aggregate(1L, (a, x) => a * x);
            return G.Initializer(name, OnnxDataType.Float, dims, () => WeightGenerator.NormalBytes(seed, name, count, 0, std));
        }

        private string Constant(string name, long[] dims, float value)
        {
            long count = dims.Aggregate(1L, (a, x) => a * x);
            return G.Initializer(name, OnnxDataType.Float, dims, () => WeightGenerator.NormalBytes(seed, name, count, value, 0.02f));
        }

        public string Linear(string name, string x, int inFeatures, int outFeatures, bool bias = true)
        {
            string y = G.Op("MatMul", [x, Weight(name + ".weight", [inFeatures, outFeatures], 1f / MathF.Sqrt(inFeatures))]);
            return bias ? G.Op("Add", [Weight(name + ".bias", [outFeatures], 0.02f), y]) : y;
        }

        public string Conv(string name, string x, int inChannels, int outChannels, int kernel = 3, int stride = 1, long[]? pads = null)
        {
            string w = Weight(name + ".weight", [outChannels, inChannels, kernel, kernel], 1f / MathF.Sqrt(inChannels * kernel * kernel));
            string bias = Weight(name + ".bias", [outChannels], 0.02f);
            int pad = kernel / 2;
            return G.Op(
                "Conv",
                [x, w, bias],
                OnnxAttribute.Ints("kernel_shape", kernel, kernel),
                OnnxAttribute.Ints("strides", stride, stride),
                OnnxAttribute.Ints("pads", pads ?? [pad, pad, pad, pad]));
        }

        public string Silu(string x) => G.Op("Mul", [x, G.Op("Sigmoid", [x])]);

        /// <summary>Exact GELU, x · Φ(x), as torch exports it (ONNX Runtime fuses it into one Gelu node).</summary>
        public string Gelu(string x)
        {
            string erf = G.Op("Erf", [G.Op("Div", [x, G.ConstFloatScalar(MathF.Sqrt(2f))])]);
            return G.Op("Mul", [G.Op("Mul", [x, G.Op("Add", [erf, G.ConstFloatScalar(1f)])]), G.ConstFloatScalar(0.5f)]);
        }

        public string LayerNorm(string name, string x, int width, float epsilon) =>
            G.Op(
                "LayerNormalization",
                [x, Constant(name + ".weight", [width], 1f), Weight(name + ".bias", [width], 0.02f)],
                OnnxAttribute.Int("axis", -1),
                OnnxAttribute.Float("epsilon", epsilon));

        /// <summary>torch's GroupNorm export: InstanceNormalization over [batch, 32, -1], then the per-channel affine.</summary>
        public string GroupNorm(string name, string x, int channels, float epsilon)
        {
            string grouped = G.Op("Reshape", [x, G.ConstInt64Vector(0, Groups, -1)]);
            string ones = G.Initializer(name + ".group_scale", [Groups], [.. Enumerable.Repeat(1f, Groups)]);
            string zeros = G.Initializer(name + ".group_bias", [Groups], new float[Groups]);
            string normed = G.Op("InstanceNormalization", [grouped, ones, zeros], OnnxAttribute.Float("epsilon", epsilon));
            normed = G.Op("Reshape", [normed, G.Op("Shape", [x])]);
            string scale = Constant(name + ".weight", [channels, 1, 1], 1f);
            string bias = Weight(name + ".bias", [channels, 1, 1], 0.02f);
            return G.Op("Add", [G.Op("Mul", [normed, scale]), bias]);
        }

        /// <summary>
        /// Multi-head attention of <paramref name="x"/> [batch, L, width] over <paramref name="context"/> [batch, S, contextWidth]:
        /// q, k, v projections (biased or not), scaled dot products, softmax, output projection with bias.
        /// </summary>
        public string Attention(string name, string x, string context, int width, int contextWidth, int heads, bool projectionBias, string? mask, string outName)
        {
            int headDim = width / heads;
            bool clip = outName == "out_proj";
            string Heads(string v, params long[] perm) =>
                G.Op("Transpose", [G.Op("Reshape", [v, G.ConstInt64Vector(0, -1, heads, headDim)])], OnnxAttribute.Ints("perm", perm));
            string q = Heads(Linear(name + (clip ? ".q_proj" : ".to_q"), x, width, width, projectionBias), 0, 2, 1, 3);
            string k = Heads(Linear(name + (clip ? ".k_proj" : ".to_k"), context, contextWidth, width, projectionBias), 0, 2, 3, 1);
            string v = Heads(Linear(name + (clip ? ".v_proj" : ".to_v"), context, contextWidth, width, projectionBias), 0, 2, 1, 3);
            string scores = G.Op("Mul", [G.Op("MatMul", [q, k]), G.ConstFloatScalar(1f / MathF.Sqrt(headDim))]);
            if (mask is not null)
            {
                scores = G.Op("Add", [scores, mask]);
            }

            string attended = G.Op("MatMul", [G.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), v]);
            attended = G.Op("Reshape", [G.Op("Transpose", [attended], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), G.ConstInt64Vector(0, -1, width)]);
            return Linear(name + "." + outName, attended, width, width);
        }

        /// <summary>ResnetBlock2D: norm, SiLU, conv, (+ time embedding), norm, SiLU, conv, plus the (1×1 projected) input.</summary>
        public string Resnet(string name, string x, int inChannels, int outChannels, string? tembAct, int tembWidth, float epsilon)
        {
            string h = Conv(name + ".conv1", Silu(GroupNorm(name + ".norm1", x, inChannels, epsilon)), inChannels, outChannels);
            if (tembAct is not null)
            {
                string t = Linear(name + ".time_emb_proj", tembAct, tembWidth, outChannels);
                h = G.Op("Add", [h, G.Op("Unsqueeze", [t, G.ConstInt64Vector(2, 3)])]);
            }

            h = Conv(name + ".conv2", Silu(GroupNorm(name + ".norm2", h, outChannels, epsilon)), outChannels, outChannels);
            string shortcut = inChannels == outChannels ? x : Conv(name + ".conv_shortcut", x, inChannels, outChannels, kernel: 1);
            return G.Op("Add", [shortcut, h]);
        }

        /// <summary>
        /// Transformer2DModel with linear projections and one BasicTransformerBlock: self-attention, cross-attention over
        /// the text, GEGLU feed-forward, each pre-normed with a residual.
        /// </summary>
        public string Transformer(string name, string x, int channels, string context, int contextWidth)
        {
            int heads = channels / HeadDim;
            string shape = G.Op("Shape", [x]);
            string h = GroupNorm(name + ".norm", x, channels, 1e-6f);
            h = G.Op("Transpose", [G.Op("Reshape", [h, G.ConstInt64Vector(0, channels, -1)])], OnnxAttribute.Ints("perm", 0, 2, 1));
            h = Linear(name + ".proj_in", h, channels, channels);
            string p = name + ".transformer_blocks.0";
            string n = LayerNorm(p + ".norm1", h, channels, 1e-5f);
            h = G.Op("Add", [Attention(p + ".attn1", n, n, channels, channels, heads, projectionBias: false, mask: null, outName: "to_out.0"), h]);
            n = LayerNorm(p + ".norm2", h, channels, 1e-5f);
            h = G.Op("Add", [Attention(p + ".attn2", n, context, channels, contextWidth, heads, projectionBias: false, mask: null, outName: "to_out.0"), h]);
            n = LayerNorm(p + ".norm3", h, channels, 1e-5f);
            int inner = channels * 4;
            string projected = Linear(p + ".ff.net.0.proj", n, channels, 2 * inner);
            string[] halves = G.OpIn("", "Split", [projected, G.ConstInt64Vector(inner, inner)], 2, OnnxAttribute.Int("axis", -1));
            string ff = Linear(p + ".ff.net.2", G.Op("Mul", [halves[0], Gelu(halves[1])]), inner, channels);
            h = G.Op("Add", [ff, h]);
            h = Linear(name + ".proj_out", h, channels, channels);
            h = G.Op("Reshape", [G.Op("Transpose", [h], OnnxAttribute.Ints("perm", 0, 2, 1)), shape]);
            return G.Op("Add", [h, x]);
        }

        /// <summary>Nearest-neighbour 2× upsampling as torch's interpolate exports it.</summary>
        public string Upsample(string x) =>
            G.Op(
                "Resize",
                [x, "", G.Initializer(G.Scope.Replace('/', '.').TrimStart('.') + ".scales", [4], [1f, 1f, 2f, 2f])],
                OnnxAttribute.String("mode", "nearest"),
                OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
                OnnxAttribute.String("nearest_mode", "floor"));
    }
}

/// <summary>SD-Turbo's (Stable Diffusion 2.1 base) shapes, from its published configs.</summary>
internal sealed record SdTurboShapes
{
    /// <summary>CLIP's vocabulary (49408), the token embedding's rows.</summary>
    public int TextVocab { get; init; } = 49408;

    /// <summary>Tokens the text encoder reads.</summary>
    public int TextLength { get; init; } = 77;

    /// <summary>OpenCLIP ViT-H text width.</summary>
    public int TextHidden { get; init; } = 1024;

    /// <summary>The 23 of the 24 layers SD 2 reads (it takes the penultimate layer's output).</summary>
    public int TextLayers { get; init; } = 23;

    /// <summary>The text MLP's width.</summary>
    public int TextIntermediate { get; init; } = 4096;

    /// <summary>UNet block widths.</summary>
    public int[] UnetWidths { get; init; } = [320, 640, 1280, 1280];

    /// <summary>ResNet layers per down block (up blocks have one more).</summary>
    public int UnetLayersPerBlock { get; init; } = 2;

    /// <summary>Latent side at 512×512.</summary>
    public int SampleSize { get; init; } = 64;

    /// <summary>VAE block widths.</summary>
    public int[] VaeWidths { get; init; } = [128, 256, 512, 512];

    /// <summary>ResNet layers per VAE encoder block (decoder blocks have one more).</summary>
    public int VaeLayersPerBlock { get; init; } = 2;
}
