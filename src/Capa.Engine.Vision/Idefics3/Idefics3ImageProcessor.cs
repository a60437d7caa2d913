using System.Text;
using Capa.Media.Images;

namespace Capa.Engine.Vision.Idefics3;

/// <summary>
/// The pixel tensors and prompt text of one image, ready for an Idefics3 / SmolVLM vision encoder.
/// </summary>
/// <param name="PixelValues">Float32 [Tiles, 3, TileSize, TileSize], channels first; the tiles row by row, the global image last.</param>
/// <param name="PixelAttentionMask">[Tiles, TileSize, TileSize]: true for real pixels, false for padding.</param>
/// <param name="Tiles">Local tiles plus the global image (Rows × Cols + 1, or 1 when the image is not split).</param>
/// <param name="TileSize">The side of every tile (<c>max_image_size.longest_edge</c>).</param>
/// <param name="Rows">Tile rows; 0 when the image is not split.</param>
/// <param name="Cols">Tile columns; 0 when the image is not split.</param>
/// <param name="PromptText">The text that replaces this image's one <c>&lt;image&gt;</c> in the templated prompt.</param>
public sealed record Idefics3ImageInputs(
    float[] PixelValues,
    bool[] PixelAttentionMask,
    int Tiles,
    int TileSize,
    int Rows,
    int Cols,
    string PromptText);

/// <summary>
/// How an image will be tiled: the sizes each resize step produces and the resulting grid. Computed from the image
/// size alone, so that prompt length (and the context-length check) is known before any pixel work.
/// </summary>
/// <param name="ResizedWidth">Width after the longest-edge resize (the source width when there is none).</param>
/// <param name="ResizedHeight">Height after the longest-edge resize.</param>
/// <param name="SplitWidth">Width after the resize up to multiples of the tile size; 0 when the image is not split.</param>
/// <param name="SplitHeight">Height after that resize; 0 when the image is not split.</param>
/// <param name="Rows">Tile rows (0 without splitting, or when the image is a single tile).</param>
/// <param name="Cols">Tile columns.</param>
public sealed record Idefics3TilePlan(int ResizedWidth, int ResizedHeight, int SplitWidth, int SplitHeight, int Rows, int Cols)
{
    /// <summary>Local tiles plus the global image.</summary>
    public int Tiles => (Rows * Cols) + 1;
}

/// <summary>
/// The Idefics3 / SmolVLM image processor, step for step as Python transformers' <c>SmolVLMImageProcessor</c>
/// (<c>image_processing_smolvlm.py</c>, the same as <c>Idefics3ImageProcessor</c>) and the prompt expansion of
/// <c>processing_smolvlm.py</c>: resize the longest edge to <c>size.longest_edge</c> (small images are upscaled; the
/// other side is truncated and made even; 4096 at most), then with splitting resize both sides up to multiples of
/// <c>max_image_size</c>, cut tiles row by row and add the whole image resized to a square tile as the global image;
/// without splitting only that square image. Every resize is Pillow's (<see cref="PillowResampler"/>), so the uint8
/// pixels are Pillow's, and rescaling (in double, then float32) and normalising (in float32) follow numpy's order of
/// operations, so the floats are the reference's bit for bit.
/// </summary>
/// <remarks>
/// The input is already RGB with alpha composited on white. Python composites after resizing, so an image with
/// transparency can differ slightly at soft edges; opaque images (every JPEG) are identical.
/// </remarks>
public sealed class Idefics3ImageProcessor
{
    // image_processing_smolvlm.py MAX_IMAGE_SIZE: no side beyond 4k after the longest-edge resize.
    private const int MaxImageSide = 4096;

    private readonly float[][] _lookup;

    /// <summary>Creates a processor from settings.</summary>
    public Idefics3ImageProcessor(Idefics3ProcessorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _lookup = BuildLookup(config);
    }

    /// <summary>The settings in use.</summary>
    public Idefics3ProcessorConfig Config { get; }

    /// <summary><c>&lt;image&gt;</c> tokens per tile.</summary>
    public int ImageSeqLen => Config.ImageSeqLen;

    /// <summary>The side of every tile.</summary>
    public int TileSize => Config.MaxImageSize;

    /// <summary>Reads <c>preprocessor_config.json</c>, <c>processor_config.json</c> and the tokenizer's image markers from a model folder.</summary>
    /// <exception cref="Capa.Models.Config.ModelFolderException">The settings are missing or malformed.</exception>
    public static Idefics3ImageProcessor FromFolder(string modelDirectory) => new(Idefics3ProcessorConfig.FromFolder(modelDirectory));

    /// <summary>
    /// The tiling for an image of this size. <paramref name="split"/> false (OpenAI's <c>detail: low</c>) gives the
    /// global image only. <paramref name="maxTiles"/> caps the local tiles (rows × cols, the global image not
    /// counted): when the configured longest edge would give more, the largest smaller multiple of the tile size that
    /// fits is used instead, which is exactly the Python processor run with that <c>size.longest_edge</c>.
    /// </summary>
    public Idefics3TilePlan Plan(int width, int height, bool split, int? maxTiles = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (maxTiles is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTiles), maxTiles, "The tile cap cannot be negative.");
        }

        var longestEdge = Config.DoResize ? Config.LongestEdge : null;
        var plan = PlanWith(width, height, split, longestEdge, Config.DoResize);
        if (maxTiles is not { } cap || plan.Rows * plan.Cols <= cap)
        {
            return plan;
        }

        // Shrink the longest edge one tile at a time; at one tile's length the image is a single tile and always fits.
        var tile = Config.MaxImageSize;
        var start = plan.ResizedWidth >= plan.ResizedHeight ? plan.ResizedWidth : plan.ResizedHeight;
        for (var edge = (start - 1) / tile * tile; edge >= tile; edge -= tile)
        {
            plan = PlanWith(width, height, split, edge, resize: true);
            if (plan.Rows * plan.Cols <= cap)
            {
                return plan;
            }
        }

        return PlanWith(width, height, split, tile, resize: true);
    }

    /// <summary>The number of <c>&lt;image&gt;</c> tokens an image of this size costs in the prompt.</summary>
    public int CountImageTokens(int width, int height, bool split, int? maxTiles = null) =>
        Plan(width, height, split, maxTiles).Tiles * Config.ImageSeqLen;

    /// <summary>Preprocesses one image: the contract's entry point (no tile cap).</summary>
    public Idefics3ImageInputs Process(RgbImage image, bool split) => Process(image, split, maxTiles: null);

    /// <summary>Preprocesses one image, with an optional cap on the local tiles (see <see cref="Plan"/>).</summary>
    public Idefics3ImageInputs Process(RgbImage image, bool split, int? maxTiles)
    {
        ArgumentNullException.ThrowIfNull(image);
        var plan = Plan(image.Width, image.Height, split, maxTiles);
        var filter = Config.Resample;
        var tile = Config.MaxImageSize;

        // The Python processor always calls resize when do_resize is set; Pillow returns a copy for an unchanged size.
        var resized = plan.ResizedWidth == image.Width && plan.ResizedHeight == image.Height
            ? image
            : PillowResampler.Resize(image, plan.ResizedWidth, plan.ResizedHeight, filter);

        var frames = new List<RgbImage>();
        if (plan.SplitWidth > 0)
        {
            var grid = PillowResampler.Resize(resized, plan.SplitWidth, plan.SplitHeight, filter);
            if (plan.Rows > 0)
            {
                for (var r = 0; r < plan.Rows; r++)
                {
                    for (var c = 0; c < plan.Cols; c++)
                    {
                        frames.Add(Crop(grid, c * tile, r * tile, tile, tile));
                    }
                }

                frames.Add(PillowResampler.Resize(grid, tile, tile, filter));
            }
            else
            {
                frames.Add(grid);
            }
        }
        else
        {
            frames.Add(PillowResampler.Resize(resized, tile, tile, filter));
        }

        var (pixels, mask) = ToTensors(frames, tile);
        return new Idefics3ImageInputs(pixels, mask, frames.Count, tile, plan.Rows, plan.Cols, ExpandPrompt(plan.Rows, plan.Cols));
    }

    /// <summary>
    /// The prompt text for an image tiled <paramref name="rows"/> × <paramref name="cols"/> (0 × 0: not split), as
    /// <c>processing_smolvlm.py get_image_prompt_string</c> writes it.
    /// </summary>
    public string ExpandPrompt(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        var fake = Config.FakeImageToken;
        var imageRun = string.Concat(Enumerable.Repeat(Config.ImageToken, Config.ImageSeqLen));
        var text = new StringBuilder();
        if (rows == 0 && cols == 0)
        {
            return text.Append(fake).Append(Config.GlobalImageToken).Append(imageRun).Append(fake).ToString();
        }

        for (var r = 1; r <= rows; r++)
        {
            for (var c = 1; c <= cols; c++)
            {
                text.Append(fake).Append("<row_").Append(r).Append("_col_").Append(c).Append('>').Append(imageRun);
            }

            text.Append('\n');
        }

        return text.Append('\n').Append(fake).Append(Config.GlobalImageToken).Append(imageRun).Append(fake).ToString();
    }

    private Idefics3TilePlan PlanWith(int width, int height, bool split, int? longestEdge, bool resize)
    {
        int w = width, h = height;
        if (resize && longestEdge is { } edge)
        {
            (h, w) = RescaleToMaxLength(h, w, edge);
            (h, w) = ScaleBelowUpperBound(h, w, MaxImageSide);
        }
        else if (resize && Config.FixedSize is { } size)
        {
            (h, w) = size;
        }

        if (!split || !Config.DoImageSplitting)
        {
            return new Idefics3TilePlan(w, h, 0, 0, 0, 0);
        }

        var (sh, sw) = ToTileMultiples(h, w, Config.MaxImageSize);
        var tile = Config.MaxImageSize;
        return sh > tile || sw > tile
            ? new Idefics3TilePlan(w, h, sw, sh, CeilDiv(sh, tile), CeilDiv(sw, tile))
            : new Idefics3TilePlan(w, h, sw, sh, 0, 0);
    }

    // _resize_output_size_rescale_to_max_len: longest side to maxLength, the other truncated and bumped to even.
    private static (int Height, int Width) RescaleToMaxLength(int height, int width, int maxLength)
    {
        var aspect = (double)width / height;
        if (width >= height)
        {
            width = maxLength;
            height = (int)(width / aspect);
            if (height % 2 != 0)
            {
                height++;
            }
        }
        else
        {
            height = maxLength;
            width = (int)(height * aspect);
            if (width % 2 != 0)
            {
                width++;
            }
        }

        return (Math.Max(height, 1), Math.Max(width, 1));
    }

    // _resize_output_size_scale_below_upper_bound: only shrinks, no even-ness fix.
    private static (int Height, int Width) ScaleBelowUpperBound(int height, int width, int maxLength)
    {
        var aspect = (double)width / height;
        if (width >= height && width > maxLength)
        {
            width = maxLength;
            height = (int)(width / aspect);
        }
        else if (height > width && height > maxLength)
        {
            height = maxLength;
            width = (int)(height * aspect);
        }

        return (Math.Max(height, 1), Math.Max(width, 1));
    }

    // resize_for_vision_encoder: the long side up to a multiple of the tile, the short side from the long one by the
    // aspect ratio, then up to a multiple too.
    private static (int Height, int Width) ToTileMultiples(int height, int width, int tile)
    {
        var aspect = (double)width / height;
        if (width >= height)
        {
            width = (int)Math.Ceiling((double)width / tile) * tile;
            height = (int)(width / aspect);
            height = (int)Math.Ceiling((double)height / tile) * tile;
        }
        else
        {
            height = (int)Math.Ceiling((double)height / tile) * tile;
            width = (int)(height * aspect);
            width = (int)Math.Ceiling((double)width / tile) * tile;
        }

        return (height, width);
    }

    private static int CeilDiv(int value, int divisor) => (int)Math.Ceiling((double)value / divisor);

    private static RgbImage Crop(RgbImage source, int x0, int y0, int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            Array.Copy(source.Pixels, (((y0 + y) * source.Width) + x0) * 3, pixels, y * width * 3, width * 3);
        }

        return new RgbImage(width, height, pixels);
    }

    // Every frame is padded at the bottom and right to tile × tile (the Python processor pads to the largest frame,
    // which is always a full tile), with zeros in the pixels and false in the mask.
    private (float[] Pixels, bool[] Mask) ToTensors(List<RgbImage> frames, int tile)
    {
        var plane = tile * tile;
        var pixels = new float[frames.Count * 3 * plane];
        var mask = new bool[frames.Count * plane];
        Parallel.For(0, frames.Count, f =>
        {
            var frame = frames[f];
            var src = frame.Pixels;
            for (var c = 0; c < 3; c++)
            {
                var lut = _lookup[c];
                var channel = ((f * 3) + c) * plane;
                for (var y = 0; y < frame.Height; y++)
                {
                    var row = channel + (y * tile);
                    var s = (y * frame.Width * 3) + c;
                    for (var x = 0; x < frame.Width; x++, s += 3)
                    {
                        pixels[row + x] = lut[src[s]];
                    }
                }
            }

            var maskBase = f * plane;
            for (var y = 0; y < frame.Height; y++)
            {
                Array.Fill(mask, true, maskBase + (y * tile), frame.Width);
            }
        });

        return (pixels, mask);
    }

    // A byte has 256 values, so each channel's rescale + normalise is a table, computed in numpy's order: the byte
    // times the factor in double, cast to float32, then (x - mean) / std with float32 mean and std in float32.
    private static float[][] BuildLookup(Idefics3ProcessorConfig config)
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
