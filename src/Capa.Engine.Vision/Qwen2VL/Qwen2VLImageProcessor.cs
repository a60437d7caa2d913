using System.Text;
using Capa.Engine.Text.Generation;
using Capa.Media.Images;

namespace Capa.Engine.Vision.Qwen2VL;

/// <summary>
/// The pixel rows and grid of one image, ready for a Qwen2-VL vision encoder.
/// </summary>
/// <param name="PixelValues">Float32 [GridT × GridH × GridW, PatchWidth]: one row per 14-pixel patch, in the order the Python processor writes them.</param>
/// <param name="GridT">Temporal patches (1 for a still image).</param>
/// <param name="GridH">Patch rows (resized height / patch_size).</param>
/// <param name="GridW">Patch columns (resized width / patch_size).</param>
/// <param name="PatchWidth">Values per row: 3 × temporal_patch_size × patch_size² (1176).</param>
/// <param name="ResizedWidth">The width the image was resized to.</param>
/// <param name="ResizedHeight">The height the image was resized to.</param>
/// <param name="ImageTokens">The <c>&lt;|image_pad|&gt;</c> tokens the image costs: GridT × GridH × GridW / merge_size².</param>
public sealed record Qwen2VLImageInputs(
    float[] PixelValues,
    int GridT,
    int GridH,
    int GridW,
    int PatchWidth,
    int ResizedWidth,
    int ResizedHeight,
    int ImageTokens)
{
    /// <summary>Patch rows: GridT × GridH × GridW.</summary>
    public int Patches => GridT * GridH * GridW;
}

/// <summary>
/// The Qwen2-VL / Qwen2.5-VL image processor, step for step as Python transformers' <c>Qwen2VLImageProcessor</c>
/// (<c>image_processing_qwen2_vl.py</c>): <c>smart_resize</c> to sides that are multiples of patch × merge (28) with
/// the pixel count within <c>min_pixels</c>..<c>max_pixels</c>, Pillow's resize (bicubic by default), rescale and
/// normalise in numpy's order of operations, the still image repeated <c>temporal_patch_size</c> times, then cut into
/// 14-pixel patches whose rows come in the reference's order: for each 2 × 2 merge block (row by row), its four patches
/// (row by row), each patch's values ordered channel, frame, y, x.
/// </summary>
/// <remarks>
/// The input is already RGB with alpha composited on white; Python composites before resizing too (convert_rgb), so
/// the pixels are the reference's bit for bit.
/// </remarks>
public sealed class Qwen2VLImageProcessor
{
    /// <summary>The pixel budget of OpenAI's <c>detail: low</c>: a 512 × 512 image's worth of pixels.</summary>
    public const long LowDetailMaxPixels = 512 * 512;

    // smart_resize refuses extreme aspect ratios (the reference raises ValueError beyond 200).
    private const double MaxAspectRatio = 200;

    private readonly float[][] _lookup;

    /// <summary>Creates a processor from settings.</summary>
    public Qwen2VLImageProcessor(Qwen2VLProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _lookup = BuildLookup(config);
    }

    /// <summary>The settings in use.</summary>
    public Qwen2VLProcessorConfig Config { get; }

    /// <summary>Reads <c>preprocessor_config.json</c> from a model folder.</summary>
    /// <exception cref="Capa.Models.Config.ModelFolderException">The settings are missing or malformed.</exception>
    public static Qwen2VLImageProcessor FromFolder(string modelDirectory) => new(Qwen2VLProcessorConfig.FromFolder(modelDirectory));

    /// <summary>
    /// <c>smart_resize</c>: the (height, width) an image is resized to. Each side is rounded to the nearest multiple of
    /// <paramref name="factor"/> (half to even, as Python's <c>round</c>); a pixel count above the budget scales both
    /// sides down by the same ratio and rounds down, one below scales them up and rounds up.
    /// </summary>
    /// <exception cref="GenerationRequestException">The aspect ratio exceeds 200.</exception>
    public static (int Height, int Width) SmartResize(int height, int width, int factor, long minPixels, long maxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        if ((double)Math.Max(height, width) / Math.Min(height, width) > MaxAspectRatio)
        {
            throw new GenerationRequestException(
                $"The image is {width}×{height}: its aspect ratio must be smaller than {MaxAspectRatio:0}.", null, "invalid_image");
        }

        long hBar = (long)Math.Round((double)height / factor, MidpointRounding.ToEven) * factor;
        long wBar = (long)Math.Round((double)width / factor, MidpointRounding.ToEven) * factor;
        if (hBar * wBar > maxPixels)
        {
            var beta = Math.Sqrt((double)height * width / maxPixels);
            hBar = Math.Max(factor, (long)Math.Floor(height / beta / factor) * factor);
            wBar = Math.Max(factor, (long)Math.Floor(width / beta / factor) * factor);
        }
        else if (hBar * wBar < minPixels)
        {
            var beta = Math.Sqrt((double)minPixels / ((double)height * width));
            hBar = (long)Math.Ceiling(height * beta / factor) * factor;
            wBar = (long)Math.Ceiling(width * beta / factor) * factor;
        }

        return ((int)hBar, (int)wBar);
    }

    /// <summary>
    /// The size an image of <paramref name="width"/> × <paramref name="height"/> is resized to, with the configured
    /// budget lowered to <paramref name="maxPixels"/> when given (never raised, and never below one block).
    /// </summary>
    /// <exception cref="GenerationRequestException">The aspect ratio exceeds 200, or, without resizing, a side is not a multiple of the factor.</exception>
    public (int Width, int Height) ResizedSize(int width, int height, long? maxPixels = null)
    {
        if (!Config.DoResize)
        {
            if (height % Config.Factor != 0 || width % Config.Factor != 0)
            {
                throw new GenerationRequestException(
                    $"The image is {width}×{height}: without resizing, both sides must be multiples of {Config.Factor}.", null, "invalid_image");
            }

            return (width, height);
        }

        var (min, max) = Budget(maxPixels);
        var (h, w) = SmartResize(height, width, Config.Factor, min, max);
        return (w, h);
    }

    /// <summary>The <c>&lt;|image_pad|&gt;</c> tokens an image of this size costs.</summary>
    public int CountImageTokens(int width, int height, long? maxPixels = null)
    {
        var (w, h) = ResizedSize(width, height, maxPixels);
        return (h / Config.PatchSize) * (w / Config.PatchSize) / (Config.MergeSize * Config.MergeSize);
    }

    /// <summary>
    /// The text that replaces one <c>&lt;|image_pad|&gt;</c> in the templated prompt (<c>processing_qwen2_vl.py</c>):
    /// that token repeated once per merged patch.
    /// </summary>
    public static string ExpandPrompt(int imageTokens, string imagePadToken = "<|image_pad|>")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imageTokens);
        return new StringBuilder(imagePadToken.Length * imageTokens).Insert(0, imagePadToken, imageTokens).ToString();
    }

    /// <summary>Preprocesses one image, with the pixel budget optionally lowered to <paramref name="maxPixels"/>.</summary>
    /// <exception cref="GenerationRequestException">The image's shape cannot be processed (see <see cref="ResizedSize"/>).</exception>
    public Qwen2VLImageInputs Process(RgbImage image, long? maxPixels = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (width, height) = ResizedSize(image.Width, image.Height, maxPixels);

        // The Python processor always calls resize; Pillow returns a copy for an unchanged size.
        var resized = width == image.Width && height == image.Height
            ? image
            : PillowResampler.Resize(image, width, height, Config.Resample);

        var patch = Config.PatchSize;
        var merge = Config.MergeSize;
        var frames = Config.TemporalPatchSize;
        int gridH = height / patch, gridW = width / patch;
        var blocksH = gridH / merge;
        var blocksW = gridW / merge;
        var rowWidth = Config.PatchWidth;
        var framePlane = patch * patch;
        var channelPlane = frames * framePlane;
        var values = new float[gridH * gridW * rowWidth];
        var src = resized.Pixels;

        // Row index = ((bh × blocksW + bw) × merge + mh) × merge + mw; within a row: channel, frame, y, x. Every frame
        // of a still image is the same picture, so each patch's plane is written once per frame.
        Parallel.For(0, blocksH, bh =>
        {
            for (var bw = 0; bw < blocksW; bw++)
            {
                for (var mh = 0; mh < merge; mh++)
                {
                    for (var mw = 0; mw < merge; mw++)
                    {
                        var row = ((((bh * blocksW) + bw) * merge) + mh) * merge + mw;
                        var rowBase = row * rowWidth;
                        var y0 = ((bh * merge) + mh) * patch;
                        var x0 = ((bw * merge) + mw) * patch;
                        for (var c = 0; c < 3; c++)
                        {
                            var lut = _lookup[c];
                            var channelBase = rowBase + (c * channelPlane);
                            for (var py = 0; py < patch; py++)
                            {
                                var s = ((((y0 + py) * width) + x0) * 3) + c;
                                var d = channelBase + (py * patch);
                                for (var px = 0; px < patch; px++, s += 3)
                                {
                                    values[d + px] = lut[src[s]];
                                }
                            }

                            for (var f = 1; f < frames; f++)
                            {
                                Array.Copy(values, channelBase, values, channelBase + (f * framePlane), framePlane);
                            }
                        }
                    }
                }
            }
        });

        return new Qwen2VLImageInputs(values, 1, gridH, gridW, rowWidth, width, height, gridH * gridW / (merge * merge));
    }

    private (long Min, long Max) Budget(long? maxPixels)
    {
        var max = Config.MaxPixels;
        if (maxPixels is { } cap)
        {
            var block = (long)Config.Factor * Config.Factor;
            max = Math.Min(max, Math.Max(cap, block));
        }

        return (Math.Min(Config.MinPixels, max), max);
    }

    // A byte has 256 values, so each channel's rescale + normalise is a table, computed in numpy's order: the byte
    // times the factor in double, cast to float32, then (x - mean) / std with float32 mean and std in float32.
    private static float[][] BuildLookup(Qwen2VLProcessorConfig config)
    {
        var tables = new float[3][];
        for (var c = 0; c < 3; c++)
        {
            var table = new float[256];
            var mean = (float)config.ImageMean[c];
            var std = (float)config.ImageStd[c];
            for (var v = 0; v < 256; v++)
            {
                var x = config.DoRescale ? (float)(v * config.RescaleFactor) : v;
                table[v] = config.DoNormalize ? (x - mean) / std : x;
            }

            tables[c] = table;
        }

        return tables;
    }
}
