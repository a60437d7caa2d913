using System.Globalization;
using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>
/// Widths of a Piper "medium" voice (VITS as rhasspy/piper trains it: hidden 192, filter 768, 2 heads, 6 encoder
/// layers, 4 flow couplings of 4 WaveNet layers (kernel 5), HiFi-GAN generator from 256 channels upsampled by 8, 8
/// and 4 with kernels 16, 16, 8 and resblock type 2 (kernels 3/5/7), hop 256 at 22,050 Hz).
/// </summary>
internal sealed record PiperShapes
{
    public int Hidden { get; init; } = 192;
    public int Filter { get; init; } = 768;
    public int Heads { get; init; } = 2;
    public int EncoderLayers { get; init; } = 6;
    public int FlowLayers { get; init; } = 4;
    public int WaveNetLayers { get; init; } = 4;
    public int UpsampleInitial { get; init; } = 256;

    /// <summary>A medium voice's widths.</summary>
    public static PiperShapes Medium { get; } = new();

    /// <summary>The same graph an eighth as wide, for tests of its wiring.</summary>
    public static PiperShapes Narrow { get; } = new() { Hidden = 24, Filter = 96, Heads = 2, EncoderLayers = 2, FlowLayers = 2, WaveNetLayers = 2, UpsampleInitial = 32 };
}

/// <summary>
/// A random-weight graph with a Piper medium voice's layers, widths and rates, for benchmarks: the transformer text
/// encoder, a convolutional duration predictor, the flow's WaveNet couplings and the HiFi-GAN generator. Every phoneme
/// id lasts three 256-sample frames times the length scale (the predicted durations still cost their convolutions and
/// nudge the features); the prior is shifted by a fixed pseudo-noise times <c>noise_scale</c>, so equal inputs give
/// equal samples.
/// </summary>
internal static class PiperShapesGraph
{
    /// <summary>Samples per frame (the generator's 8 × 8 × 4).</summary>
    public const int SamplesPerFrame = 256;

    /// <summary>Frames per phoneme id at length scale 1.</summary>
    public const int FramesPerSymbol = 3;

    public static (OnnxGraph Graph, long Parameters) Build(PiperShapes s, int symbolCount, int speakers, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        var l = new VoiceLayers(g, seed);
        string input = g.Input("input", OnnxDataType.Int64, "batch_size", "phonemes");
        string lengths = g.Input("input_lengths", OnnxDataType.Int64, "batch_size");
        string scales = g.Input("scales", OnnxDataType.Float, 3);
        string? sid = speakers > 1 ? g.Input("sid", OnnxDataType.Int64, "batch_size") : null;
        string Scale(int index) => g.Op("Gather", [scales, g.ConstInt64Vector(index)], OnnxAttribute.Int("axis", 0));
        int h = s.Hidden;

        g.Scope = "/enc_p";
        // Only the first input_lengths ids are read, as the real model masks the padding.
        string ids = g.Op("Slice", [input, g.ConstInt64Vector(0), lengths, g.ConstInt64Vector(1)]);
        string x = g.Op("Mul", [g.Op("Gather", [l.Weight("enc_p.emb.weight", [symbolCount, h], 1f), ids]), g.ConstFloatScalar(MathF.Sqrt(h) * 0.1f)]);
        for (var i = 0; i < s.EncoderLayers; i++)
        {
            var p = "enc_p.encoder." + i.ToString(CultureInfo.InvariantCulture);
            x = l.LayerNorm(g.Op("Add", [x, l.SelfAttention(x, p + ".attn", h, s.Heads)]), p + ".norm_1", h);
            var ffn = g.Op("Relu", [l.Conv(l.Swap(x), p + ".ffn.conv_1", h, s.Filter, 3)]);
            x = l.LayerNorm(g.Op("Add", [x, l.Swap(l.Conv(ffn, p + ".ffn.conv_2", s.Filter, h, 3))]), p + ".norm_2", h);
        }

        string encoded = l.Swap(x);
        string stats = l.Conv(encoded, "enc_p.proj", h, 2 * h, 1);
        string mean = g.Op("Slice", [stats, g.ConstInt64Vector(0), g.ConstInt64Vector(h), g.ConstInt64Vector(1)]);
        string logScale = g.Op("Slice", [stats, g.ConstInt64Vector(h), g.ConstInt64Vector(2 * h), g.ConstInt64Vector(1)]);

        string? speaker = null;
        if (sid is not null)
        {
            g.Scope = "/emb_g";
            speaker = g.Op("Unsqueeze", [g.Op("Gather", [l.Weight("emb_g.weight", [speakers, h], 1f), sid]), g.ConstInt64Vector(2)]);
            encoded = g.Op("Add", [encoded, speaker]);
        }

        g.Scope = "/dp";
        string d = encoded;
        for (var i = 0; i < 3; i++)
        {
            d = g.Op("Relu", [l.Conv(d, "dp.convs." + i.ToString(CultureInfo.InvariantCulture), h, h, 3)]);
        }

        string durations = g.Op("Sigmoid", [l.Conv(d, "dp.proj", h, 1, 1)]);
        string nudge = g.Op("Add", [g.ConstFloatScalar(1f), g.Op("Mul", [g.Op("ReduceMean", [durations], OnnxAttribute.Int("keepdims", 0)), g.Op("Mul", [Scale(2), g.ConstFloatScalar(1e-3f)])])]);

        g.Scope = "/align";
        string frames = l.ScaledLength(l.Length(ids, 1), g.Op("Mul", [Scale(1), g.ConstFloatScalar(FramesPerSymbol)]));
        mean = g.Op("Mul", [l.StretchTo(mean, h, frames), nudge]);
        logScale = l.StretchTo(logScale, h, frames);
        // A fixed pseudo-noise in place of Piper's random draw: sin of (frame × 12.9898 + channel × 0.7).
        string frameIndex = g.Op("Cast", [g.Op("Range", [g.ConstInt64Scalar(0), g.Op("Squeeze", [frames, g.ConstInt64Vector(0)]), g.ConstInt64Scalar(1)])], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        string channelPhase = g.Initializer("noise.channel_phase", [1, h, 1], [.. Enumerable.Range(0, h).Select(c => c * 0.7f)]);
        string pseudoNoise = g.Op("Sin", [g.Op("Add", [g.Op("Mul", [frameIndex, g.ConstFloatScalar(12.9898f)]), channelPhase])]);
        string z = g.Op("Add", [mean, g.Op("Mul", [g.Op("Mul", [pseudoNoise, g.Op("Exp", [g.Op("Tanh", [logScale])])]), Scale(0)])]);

        g.Scope = "/flow";
        int half = h / 2;
        for (var i = s.FlowLayers - 1; i >= 0; i--)
        {
            var p = "flow.flows." + i.ToString(CultureInfo.InvariantCulture);
            // Flip, then the mean-only coupling in reverse: x1 -= f(x0).
            var x1 = g.Op("Slice", [z, g.ConstInt64Vector(0), g.ConstInt64Vector(half), g.ConstInt64Vector(1)]);
            var x0 = g.Op("Slice", [z, g.ConstInt64Vector(half), g.ConstInt64Vector(h), g.ConstInt64Vector(1)]);
            var hidden = l.Conv(x0, p + ".pre", half, h, 1);
            hidden = WaveNet(l, hidden, speaker, p + ".enc", h, s.WaveNetLayers);
            x1 = g.Op("Sub", [x1, l.Conv(hidden, p + ".post", h, half, 1)]);
            z = g.Op("Concat", [x0, x1], OnnxAttribute.Int("axis", 1));
        }

        g.Scope = "/dec";
        string y = l.Conv(z, "dec.conv_pre", h, s.UpsampleInitial, 7);
        if (speaker is not null)
        {
            y = g.Op("Add", [y, l.Conv(speaker, "dec.cond", h, s.UpsampleInitial, 1)]);
        }

        int[] rates = [8, 8, 4];
        int[] kernels = [16, 16, 8];
        (int Kernel, int[] Dilations)[] resblocks = [(3, [1, 2]), (5, [2, 6]), (7, [3, 12])];
        int channels = s.UpsampleInitial;
        for (var i = 0; i < rates.Length; i++)
        {
            int next = channels / 2;
            int pad = (kernels[i] - rates[i]) / 2;
            y = l.ConvTranspose(l.LeakyRelu(y, 0.1f), "dec.ups." + i.ToString(CultureInfo.InvariantCulture), channels, next, kernels[i], rates[i], pad, pad);
            string? sum = null;
            for (var j = 0; j < resblocks.Length; j++)
            {
                var block = y;
                foreach (var dilation in resblocks[j].Dilations)
                {
                    var name = string.Create(CultureInfo.InvariantCulture, $"dec.resblocks.{(i * resblocks.Length) + j}.convs.{dilation}");
                    block = g.Op("Add", [block, l.Conv(l.LeakyRelu(block, 0.1f), name, next, next, resblocks[j].Kernel, dilation: dilation)]);
                }

                sum = sum is null ? block : g.Op("Add", [sum, block]);
            }

            y = g.Op("Div", [sum!, g.ConstFloatScalar(resblocks.Length)]);
            channels = next;
        }

        string wave = g.Op("Tanh", [l.Conv(l.LeakyRelu(y, 0.01f), "dec.conv_post", channels, 1, 7)]);
        g.Output(wave, "output", OnnxDataType.Float, "batch_size", 1, "num_samples");
        return (g.Build("main_graph"), l.Parameters);
    }

    /// <summary>VITS's WN: dilation-1 convolutions (kernel 5) with gated tanh·sigmoid units and residual/skip projections.</summary>
    private static string WaveNet(VoiceLayers l, string x, string? speaker, string p, int hidden, int layers)
    {
        var g = l.G;
        string? skip = null;
        for (var i = 0; i < layers; i++)
        {
            var q = p + "." + i.ToString(CultureInfo.InvariantCulture);
            var gate = l.Conv(x, q + ".in_layer", hidden, 2 * hidden, 5);
            if (speaker is not null)
            {
                gate = g.Op("Add", [gate, l.Conv(speaker, q + ".cond_layer", hidden, 2 * hidden, 1)]);
            }

            var a = g.Op("Slice", [gate, g.ConstInt64Vector(0), g.ConstInt64Vector(hidden), g.ConstInt64Vector(1)]);
            var b = g.Op("Slice", [gate, g.ConstInt64Vector(hidden), g.ConstInt64Vector(2 * hidden), g.ConstInt64Vector(1)]);
            var acts = g.Op("Mul", [g.Op("Tanh", [a]), g.Op("Sigmoid", [b])]);
            if (i < layers - 1)
            {
                var resSkip = l.Conv(acts, q + ".res_skip", hidden, 2 * hidden, 1);
                x = g.Op("Add", [x, g.Op("Slice", [resSkip, g.ConstInt64Vector(0), g.ConstInt64Vector(hidden), g.ConstInt64Vector(1)])]);
                var part = g.Op("Slice", [resSkip, g.ConstInt64Vector(hidden), g.ConstInt64Vector(2 * hidden), g.ConstInt64Vector(1)]);
                skip = skip is null ? part : g.Op("Add", [skip, part]);
            }
            else
            {
                var part = l.Conv(acts, q + ".res_skip", hidden, hidden, 1);
                skip = skip is null ? part : g.Op("Add", [skip, part]);
            }
        }

        return skip!;
    }
}
