using System.Globalization;
using Capa.Models.Onnx;

namespace Capa.TestModels.Speech;

/// <summary>
/// Widths of Kokoro-82M (hexgrad/Kokoro-82M config.json: ALBERT 768 × 12 heads × 2048, 12 shared layers, embedding
/// 128; hidden 512; style 2 × 128; decoder 1024; iSTFTNet upsampling 512 → 256 → 128 by 10 and 6, n_fft 20, hop 5,
/// resblock kernels 3/7/11 with dilations 1/3/5).
/// </summary>
internal sealed record KokoroShapes
{
    public int BertEmbedding { get; init; } = 128;
    public int BertHidden { get; init; } = 768;
    public int BertHeads { get; init; } = 12;
    public int BertIntermediate { get; init; } = 2048;
    public int BertLayers { get; init; } = 12;
    public int Hidden { get; init; } = 512;
    public int StyleHalf { get; init; } = 128;
    public int DecoderHidden { get; init; } = 1024;
    public int AsrResidual { get; init; } = 64;
    public int UpsampleInitial { get; init; } = 512;

    /// <summary>Kokoro-82M's widths.</summary>
    public static KokoroShapes Real { get; } = new();

    /// <summary>The same graph an eighth as wide, for tests of its wiring.</summary>
    public static KokoroShapes Narrow { get; } = new()
    {
        BertEmbedding = 16, BertHidden = 96, BertHeads = 12, BertIntermediate = 256, BertLayers = 2, Hidden = 64,
        StyleHalf = 128, DecoderHidden = 128, AsrResidual = 8, UpsampleInitial = 64,
    };
}

/// <summary>
/// A random-weight graph with Kokoro-82M's layers, widths and rates (StyleTTS 2 with an iSTFTNet vocoder), for
/// benchmarks: PL-BERT (ALBERT) over the phonemes, the prosody predictor's LSTMs and AdaIN blocks, the text encoder, the
/// decoder's AdaIN residual blocks, the harmonic source and the generator's upsampling, Snake resblocks and iSTFT (a
/// transposed convolution, as conv-based iSTFT exports do). What it does not predict is the duration of each
/// phoneme: every phoneme lasts two 25 ms frames divided by the speed (the predicted durations still cost their
/// LSTM and projection and nudge the features), so the audio is 1,200 samples per phoneme at speed 1.
/// </summary>
internal static class KokoroShapesGraph
{
    /// <summary>Samples per 40 Hz frame: the decoder doubles the rate, the generator upsamples by 10 and 6, the iSTFT hop is 5.</summary>
    public const int SamplesPerFrame = 600;

    /// <summary>Frames per phoneme at speed 1.</summary>
    public const int FramesPerSymbol = 2;

    private const int StftBins = 11;

    public static (OnnxGraph Graph, long Parameters) Build(KokoroShapes s, int vocabSize, int styleSize, ulong seed)
    {
        var g = new OnnxGraphBuilder();
        var l = new VoiceLayers(g, seed);
        string ids = g.Input("input_ids", OnnxDataType.Int64, "batch_size", "sequence_length");
        string style = g.Input("style", OnnxDataType.Float, "batch_size", styleSize);
        string speed = g.Input("speed", OnnxDataType.Float, 1);
        string Slice(string x, long from, long to, long axis) =>
            g.Op("Slice", [x, g.ConstInt64Vector(from), g.ConstInt64Vector(to), g.ConstInt64Vector(axis)]);
        string styleDecoder = Slice(style, 0, s.StyleHalf, 1);
        string stylePredictor = Slice(style, s.StyleHalf, 2 * s.StyleHalf, 1);
        string symbols = l.Length(ids, 1);

        g.Scope = "/bert";
        string bert = Albert(l, s, ids, symbols, vocabSize);
        string durationFeatures = l.Linear(bert, "bert_encoder", s.BertHidden, s.Hidden);

        // Prosody predictor: the duration encoder (LSTM + AdaLayerNorm, three times) over BERT's features and the style.
        g.Scope = "/predictor/text_encoder";
        string styleRows = g.Op("Expand", [g.Op("Unsqueeze", [stylePredictor, g.ConstInt64Vector(1)]),
            g.Op("Concat", [g.ConstInt64Vector(1), symbols, g.ConstInt64Vector(s.StyleHalf)], OnnxAttribute.Int("axis", 0))]);
        string d = durationFeatures;
        for (var i = 0; i < 3; i++)
        {
            var p = Name("predictor.text_encoder.lstms", i);
            d = g.Op("Concat", [d, styleRows], OnnxAttribute.Int("axis", -1));
            d = l.BiLstm(d, p, s.Hidden + s.StyleHalf, s.Hidden / 2);
            d = l.AdaLayerNorm(d, stylePredictor, p + ".norm", s.StyleHalf, s.Hidden);
        }

        string prosody = g.Op("Concat", [d, styleRows], OnnxAttribute.Int("axis", -1));
        g.Scope = "/predictor/duration";
        string durations = l.BiLstm(prosody, "predictor.lstm", s.Hidden + s.StyleHalf, s.Hidden / 2);
        durations = g.Op("Sigmoid", [l.Linear(durations, "predictor.duration_proj", s.Hidden, 50)]);
        string nudge = g.Op("Add", [g.ConstFloatScalar(1f), g.Op("Mul", [g.Op("ReduceMean", [durations], OnnxAttribute.Int("keepdims", 0)), g.ConstFloatScalar(1e-3f)])]);

        // Every phoneme lasts FramesPerSymbol frames at speed 1.
        g.Scope = "/align";
        string frames = l.ScaledLength(symbols, g.Op("Div", [g.ConstFloatScalar(FramesPerSymbol), speed]));
        string aligned = g.Op("Mul", [l.StretchTo(l.Swap(prosody), s.Hidden + s.StyleHalf, frames), nudge]);

        g.Scope = "/predictor/prosody";
        string shared = l.Swap(l.BiLstm(l.Swap(aligned), "predictor.shared", s.Hidden + s.StyleHalf, s.Hidden / 2));
        string Curve(string name)
        {
            var x = AdainResBlock(l, shared, stylePredictor, s.StyleHalf, $"predictor.{name}.0", s.Hidden, s.Hidden, upsample: false);
            x = AdainResBlock(l, x, stylePredictor, s.StyleHalf, $"predictor.{name}.1", s.Hidden, s.Hidden / 2, upsample: true);
            x = AdainResBlock(l, x, stylePredictor, s.StyleHalf, $"predictor.{name}.2", s.Hidden / 2, s.Hidden / 2, upsample: false);
            return l.Conv(x, $"predictor.{name}_proj", s.Hidden / 2, 1, 1);
        }

        string f0 = Curve("F0");
        string noise = Curve("N");

        g.Scope = "/text_encoder";
        string t = l.Swap(g.Op("Gather", [l.Weight("text_encoder.embedding.weight", [vocabSize, s.Hidden], 1f), ids]));
        for (var i = 0; i < 3; i++)
        {
            var p = Name("text_encoder.cnn", i);
            t = l.Conv(t, p + ".conv", s.Hidden, s.Hidden, 5);
            t = l.LeakyRelu(l.Swap(l.LayerNorm(l.Swap(t), p + ".norm", s.Hidden)), 0.2f);
        }

        t = l.Swap(l.BiLstm(l.Swap(t), "text_encoder.lstm", s.Hidden, s.Hidden / 2));
        string asr = l.StretchTo(t, s.Hidden, frames);

        g.Scope = "/decoder";
        string f0Down = l.Conv(f0, "decoder.F0_conv", 1, 1, 3, stride: 2);
        string noiseDown = l.Conv(noise, "decoder.N_conv", 1, 1, 3, stride: 2);
        string asrResidual = l.Conv(asr, "decoder.asr_res", s.Hidden, s.AsrResidual, 1);
        string y = g.Op("Concat", [asr, f0Down, noiseDown], OnnxAttribute.Int("axis", 1));
        y = AdainResBlock(l, y, styleDecoder, s.StyleHalf, "decoder.encode", s.Hidden + 2, s.DecoderHidden, upsample: false);
        int decodeInput = s.DecoderHidden + 2 + s.AsrResidual;
        for (var i = 0; i < 4; i++)
        {
            y = g.Op("Concat", [y, asrResidual, f0Down, noiseDown], OnnxAttribute.Int("axis", 1));
            y = i < 3
                ? AdainResBlock(l, y, styleDecoder, s.StyleHalf, Name("decoder.decode", i), decodeInput, s.DecoderHidden, upsample: false)
                : AdainResBlock(l, y, styleDecoder, s.StyleHalf, Name("decoder.decode", i), decodeInput, s.UpsampleInitial, upsample: true);
        }

        string wave = Generator(l, s, y, f0, styleDecoder);
        g.Output(g.Op("Reshape", [wave, g.ConstInt64Vector(1, -1)]), "waveform", OnnxDataType.Float, 1, "num_samples");
        return (g.Build("main_graph"), l.Parameters);
    }

    /// <summary>ALBERT: factorized embedding, then one layer's weights applied <see cref="KokoroShapes.BertLayers"/> times.</summary>
    private static string Albert(VoiceLayers l, KokoroShapes s, string ids, string symbols, int vocabSize)
    {
        var g = l.G;
        var words = g.Op("Gather", [l.Weight("bert.embeddings.word_embeddings.weight", [vocabSize, s.BertEmbedding], 1f), ids]);
        var positionIds = g.Op("Range", [g.ConstInt64Scalar(0), g.Op("Squeeze", [symbols, g.ConstInt64Vector(0)]), g.ConstInt64Scalar(1)]);
        var positions = g.Op("Gather", [l.Weight("bert.embeddings.position_embeddings.weight", [512, s.BertEmbedding], 1f), positionIds]);
        var x = l.LayerNorm(g.Op("Add", [words, positions]), "bert.embeddings.LayerNorm", s.BertEmbedding);
        x = l.Linear(x, "bert.encoder.embedding_hidden_mapping_in", s.BertEmbedding, s.BertHidden);

        // ALBERT shares one layer's weights across all layers: the same names, declared once, read by every layer.
        for (var layer = 0; layer < s.BertLayers; layer++)
        {
            x = AlbertLayer(l, s, x, "bert.encoder.albert_layer_groups.0.albert_layers.0");
        }

        return x;
    }

    private static string AlbertLayer(VoiceLayers l, KokoroShapes s, string x, string p)
    {
        var g = l.G;
        var attention = l.SelfAttention(x, p + ".attention", s.BertHidden, s.BertHeads);
        x = l.LayerNorm(g.Op("Add", [x, attention]), p + ".attention.LayerNorm", s.BertHidden);
        var up = l.Gelu(l.Linear(x, p + ".ffn", s.BertHidden, s.BertIntermediate));
        return l.LayerNorm(g.Op("Add", [x, l.Linear(up, p + ".ffn_output", s.BertIntermediate, s.BertHidden)]), p + ".full_layer_layer_norm", s.BertHidden);
    }

    /// <summary>StyleTTS 2's AdainResBlk1d on [1, C, T]; <paramref name="upsample"/> doubles the length.</summary>
    private static string AdainResBlock(VoiceLayers l, string x, string style, int styleSize, string p, int input, int output, bool upsample)
    {
        var g = l.G;
        var r = l.LeakyRelu(l.AdaIn(x, style, p + ".norm1", styleSize, input), 0.2f);
        if (upsample)
        {
            r = l.ConvTranspose(r, p + ".pool", input, input, 3, 2, 1, 1, groups: input, outputPadding: 1);
        }

        r = l.Conv(r, p + ".conv1", input, output, 3);
        r = l.Conv(l.LeakyRelu(l.AdaIn(r, style, p + ".norm2", styleSize, output), 0.2f), p + ".conv2", output, output, 3);
        var shortcut = upsample ? l.Upsample(x, 2f) : x;
        if (input != output)
        {
            shortcut = l.Conv(shortcut, p + ".conv1x1", input, output, 1);
        }

        return g.Op("Mul", [g.Op("Add", [r, shortcut]), g.ConstFloatScalar(1f / MathF.Sqrt(2f))]);
    }

    /// <summary>iSTFTNet's AdaINResBlock1: three dilated convolutions, each with AdaIN and Snake before it and a plain one after.</summary>
    private static string SnakeResBlock(VoiceLayers l, string x, string style, int styleSize, string p, int channels, int kernel)
    {
        var g = l.G;
        int[] dilations = [1, 3, 5];
        for (var i = 0; i < dilations.Length; i++)
        {
            var q = p + "." + i.ToString(CultureInfo.InvariantCulture);
            var h = l.Snake(l.AdaIn(x, style, q + ".adain1", styleSize, channels), q + ".alpha1", channels);
            h = l.Conv(h, q + ".convs1", channels, channels, kernel, dilation: dilations[i]);
            h = l.Snake(l.AdaIn(h, style, q + ".adain2", styleSize, channels), q + ".alpha2", channels);
            h = l.Conv(h, q + ".convs2", channels, channels, kernel);
            x = g.Op("Add", [x, h]);
        }

        return x;
    }

    /// <summary>iSTFTNet's generator: harmonic source from F0, two upsampling stages (×10, ×6) with source injection and Snake resblocks, iSTFT (n_fft 20, hop 5).</summary>
    private static string Generator(VoiceLayers l, KokoroShapes s, string x, string f0, string style)
    {
        var g = l.G;
        g.Scope = "/decoder/generator/m_source";
        // Sine harmonics of F0 at 24 kHz (F0 is at 80 Hz: × 300), mixed by a linear layer.
        var f0Audio = l.Upsample(f0, 300f);
        var harmonics = g.Initializer("decoder.generator.harmonics", [1, 9, 1], [.. Enumerable.Range(1, 9).Select(k => k * 2f * MathF.PI / 24_000f)]);
        var phase = g.Op("CumSum", [g.Op("Mul", [f0Audio, harmonics]), g.ConstInt64Scalar(2)]);
        var source = g.Op("Tanh", [l.Conv(g.Op("Mul", [g.Op("Sin", [phase]), g.ConstFloatScalar(0.1f)]), "decoder.generator.m_source.l_linear", 9, 1, 1)]);
        // Its STFT (n_fft 20, hop 5) as a strided convolution: 22 channels at 4.8 kHz.
        var sourceSpec = l.Conv(source, "decoder.generator.stft", 1, 2 * StftBins, 20, stride: 5, padBegin: 10, padEnd: 9);

        int[] rates = [10, 6];
        int[] kernels = [20, 12];
        int[] resKernels = [3, 7, 11];
        int channels = s.UpsampleInitial;
        for (var i = 0; i < rates.Length; i++)
        {
            g.Scope = "/decoder/generator/ups." + i.ToString(CultureInfo.InvariantCulture);
            int next = channels / 2;
            x = l.LeakyRelu(x, 0.1f);
            var fromSource = i == 0
                ? l.Conv(sourceSpec, "decoder.generator.noise_convs.0", 2 * StftBins, next, 12, stride: 6, padBegin: 3, padEnd: 3)
                : l.Conv(sourceSpec, "decoder.generator.noise_convs.1", 2 * StftBins, next, 1);
            fromSource = SnakeResBlock(l, fromSource, style, s.StyleHalf, Name("decoder.generator.noise_res", i), next, i == 0 ? 7 : 11);
            int pad = (kernels[i] - rates[i]) / 2;
            x = l.ConvTranspose(x, Name("decoder.generator.ups", i), channels, next, kernels[i], rates[i], pad, pad);
            x = g.Op("Add", [x, fromSource]);
            string? sum = null;
            for (var j = 0; j < resKernels.Length; j++)
            {
                var block = SnakeResBlock(l, x, style, s.StyleHalf, Name("decoder.generator.resblocks", (i * resKernels.Length) + j), next, resKernels[j]);
                sum = sum is null ? block : g.Op("Add", [sum, block]);
            }

            x = g.Op("Div", [sum!, g.ConstFloatScalar(resKernels.Length)]);
            channels = next;
        }

        g.Scope = "/decoder/generator/istft";
        x = l.Conv(l.LeakyRelu(x, 0.01f), "decoder.generator.conv_post", channels, 2 * StftBins, 7);
        var magnitude = g.Op("Exp", [g.Op("Tanh", [g.Op("Slice", [x, g.ConstInt64Vector(0), g.ConstInt64Vector(StftBins), g.ConstInt64Vector(1)])])]);
        var angle = g.Op("Sin", [g.Op("Slice", [x, g.ConstInt64Vector(StftBins), g.ConstInt64Vector(2 * StftBins), g.ConstInt64Vector(1)])]);
        var spectrum = g.Op("Concat", [g.Op("Mul", [magnitude, g.Op("Cos", [angle])]), g.Op("Mul", [magnitude, g.Op("Sin", [angle])])], OnnxAttribute.Int("axis", 1));
        // Overlap-add of the inverse transform: length × 5 (kernel 20, end padding 15).
        var wave = l.ConvTranspose(spectrum, "decoder.generator.istft", 2 * StftBins, 1, 20, 5, 0, 15);
        return g.Op("Mul", [g.Op("Tanh", [wave]), g.ConstFloatScalar(0.5f)]);
    }

    private static string Name(string prefix, int index) => prefix + "." + index.ToString(CultureInfo.InvariantCulture);
}
