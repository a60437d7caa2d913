namespace Capa.Media.Images;

/// <summary>
/// Pillow's resampling filters, in the sense of <c>PIL.Image.resize(size, resample)</c>. The numbers Pillow (and
/// <c>preprocessor_config.json</c>'s <c>resample</c>) uses are 0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX,
/// 5 HAMMING; <see cref="PillowResampler.FilterFromPillowCode(int)"/> maps them.
/// </summary>
public enum ResampleFilter
{
    /// <summary>Nearest neighbour (Pillow's affine scale, not the convolution path).</summary>
    Nearest,

    /// <summary>Triangle filter, support 1.</summary>
    Bilinear,

    /// <summary>Keys cubic with a = -0.5, support 2.</summary>
    Bicubic,

    /// <summary>Windowed sinc with a = 3, support 3.</summary>
    Lanczos,

    /// <summary>Box filter, support 0.5.</summary>
    Box,

    /// <summary>Hamming-windowed sinc, support 1.</summary>
    Hamming,
}

/// <summary>
/// A managed port of Pillow's resizing (<c>Image.resize</c> → <c>_imaging.c _resize</c> → <c>libImaging/Resample.c</c>
/// for the convolution filters, <c>Geometry.c ImagingScaleAffine</c> for NEAREST) on 8-bit RGB. It gives the same
/// bytes as Pillow because it makes the same choices: separable passes, horizontal first (vertical first for images
/// over 100 times taller than wide, as Pillow 12.2+ does), a pass skipped when its dimension is unchanged, the filter
/// support widened by the scale when downscaling (antialiasing), weights normalised to sum 1 in double and then turned
/// into 22-bit fixed point with Pillow's rounding, and every pass rounded and clipped to uint8.
/// </summary>
public static class PillowResampler
{
    // 32 bits minus 8 for the pixel value minus 2 so that negative lobes and sums above 1 cannot overflow an int.
    private const int PrecisionBits = 32 - 8 - 2;

    // Below this many multiply-adds per pass the thread pool costs more than it saves.
    private const long ParallelThreshold = 1L << 18;

    /// <summary>
    /// Resizes <paramref name="source"/> to <paramref name="width"/> × <paramref name="height"/> exactly as Pillow's
    /// <c>image.resize((width, height), filter)</c> does for an RGB image.
    /// </summary>
    public static RgbImage Resize(RgbImage source, int width, int height, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);

        // Image.resize: same size and whole box is a plain copy.
        if (source.Width == width && source.Height == height)
        {
            return new RgbImage(width, height, (byte[])source.Pixels.Clone());
        }

        // Image.resize (Pillow 12.2+): for very tall images, shrink vertically first, then resize the rest.
        if (source.Height > (long)source.Width * 100 && height < source.Height)
        {
            var tall = ResizeBox(source, source.Width, height, filter, new Box(0, 0, source.Width, source.Height));
            return ResizeBox(tall, width, height, filter, new Box(0, 0, source.Width, height));
        }

        return ResizeBox(source, width, height, filter, new Box(0, 0, source.Width, source.Height));
    }

    /// <summary>The filter for a Pillow resampling number (0 NEAREST, 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING).</summary>
    public static bool TryFilterFromPillowCode(int code, out ResampleFilter filter)
    {
        filter = code switch
        {
            0 => ResampleFilter.Nearest,
            1 => ResampleFilter.Lanczos,
            2 => ResampleFilter.Bilinear,
            3 => ResampleFilter.Bicubic,
            4 => ResampleFilter.Box,
            5 => ResampleFilter.Hamming,
            _ => ResampleFilter.Nearest,
        };
        return code is >= 0 and <= 5;
    }

    /// <summary>The filter for a Pillow resampling number; throws for an unknown one.</summary>
    public static ResampleFilter FilterFromPillowCode(int code) =>
        TryFilterFromPillowCode(code, out var filter)
            ? filter
            : throw new ArgumentOutOfRangeException(nameof(code), code, "Pillow resampling filters are 0 to 5.");

    /// <summary>The source region, in Pillow's single-precision floats.</summary>
    internal readonly record struct Box(float X0, float Y0, float X1, float Y1);

    /// <summary><c>_imaging.c _resize</c>: a crop when the box already has the output size, else NEAREST or convolution.</summary>
    internal static RgbImage ResizeBox(RgbImage source, int width, int height, ResampleFilter filter, Box box)
    {
        if (box.X0 - (int)box.X0 == 0 && box.X1 - box.X0 == width && box.Y0 - (int)box.Y0 == 0 && box.Y1 - box.Y0 == height)
        {
            return Crop(source, (int)box.X0, (int)box.Y0, width, height);
        }

        if (filter == ResampleFilter.Nearest)
        {
            return ScaleNearest(source, width, height, box);
        }

        return Resample(source, width, height, filter, box);
    }

    private static RgbImage Crop(RgbImage source, int x0, int y0, int width, int height)
    {
        var output = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            Array.Copy(source.Pixels, (((y0 + y) * source.Width) + x0) * 3, output, y * width * 3, width * 3);
        }

        return new RgbImage(width, height, output);
    }

    /// <summary><c>Geometry.c ImagingScaleAffine</c>: source positions accumulated in double, truncated.</summary>
    private static RgbImage ScaleNearest(RgbImage source, int width, int height, Box box)
    {
        var a0 = (double)(box.X1 - box.X0) / width;
        var a4 = (double)(box.Y1 - box.Y0) / height;
        var output = new byte[width * height * 3];

        // Pillow walks the positions by repeated addition, not multiplication; the sums are what decide the pixels.
        var xIn = new int[width];
        var xo = box.X0 + (a0 * 0.5);
        for (var x = 0; x < width; x++)
        {
            xIn[x] = xo < 0.0 ? -1 : (int)xo;
            xo += a0;
        }

        var yo = box.Y0 + (a4 * 0.5);
        var src = source.Pixels;
        for (var y = 0; y < height; y++)
        {
            var yi = yo < 0.0 ? -1 : (int)yo;
            yo += a4;
            if (yi < 0 || yi >= source.Height)
            {
                continue; // Pillow fills such rows with zeros.
            }

            var rowIn = yi * source.Width * 3;
            var rowOut = y * width * 3;
            for (var x = 0; x < width; x++)
            {
                var xi = xIn[x];
                if (xi < 0 || xi >= source.Width)
                {
                    continue;
                }

                var s = rowIn + (xi * 3);
                var d = rowOut + (x * 3);
                output[d] = src[s];
                output[d + 1] = src[s + 1];
                output[d + 2] = src[s + 2];
            }
        }

        return new RgbImage(width, height, output);
    }

    /// <summary><c>Resample.c ImagingResampleInner</c> for 8-bit images.</summary>
    private static RgbImage Resample(RgbImage source, int width, int height, ResampleFilter filter, Box box)
    {
        var (kernel, support) = KernelOf(filter);

        // Pillow compares the box edges with the *output* size here; with the default box that is the same test as
        // "the size changes".
        var needHorizontal = width != source.Width || box.X0 != 0 || box.X1 != width;
        var needVertical = height != source.Height || box.Y0 != 0 || box.Y1 != height;

        var vertical = Coefficients.Compute(source.Height, box.Y0, box.Y1, height, kernel, support);

        // Only the rows the vertical pass reads are resampled horizontally.
        var firstRow = vertical.Bounds[0];
        var lastRow = vertical.Bounds[(height * 2) - 2] + vertical.Bounds[(height * 2) - 1];

        // Without a horizontal pass the vertical pass reads the source itself, so its bounds stay absolute.
        var current = source;
        if (needHorizontal)
        {
            var horizontal = Coefficients.Compute(source.Width, box.X0, box.X1, width, kernel, support);
            for (var i = 0; i < height; i++)
            {
                vertical.Bounds[i * 2] -= firstRow;
            }

            current = HorizontalPass(source, width, lastRow - firstRow, firstRow, horizontal);
        }

        if (needVertical)
        {
            return VerticalPass(current, height, vertical);
        }

        return ReferenceEquals(current, source) ? new RgbImage(source.Width, source.Height, (byte[])source.Pixels.Clone()) : current;
    }

    private static RgbImage HorizontalPass(RgbImage input, int outWidth, int outHeight, int rowOffset, Coefficients c)
    {
        var output = new byte[outWidth * outHeight * 3];
        var src = input.Pixels;
        var inStride = input.Width * 3;
        var ksize = c.KernelSize;
        var weights = c.Fixed;
        var bounds = c.Bounds;

        void Row(int yy)
        {
            var lineIn = (yy + rowOffset) * inStride;
            var lineOut = yy * outWidth * 3;
            for (var xx = 0; xx < outWidth; xx++)
            {
                var xmin = bounds[xx * 2];
                var xmax = bounds[(xx * 2) + 1];
                var k = xx * ksize;
                int ss0 = 1 << (PrecisionBits - 1), ss1 = ss0, ss2 = ss0;
                var p = lineIn + (xmin * 3);
                for (var x = 0; x < xmax; x++, p += 3)
                {
                    var w = weights[k + x];
                    ss0 += src[p] * w;
                    ss1 += src[p + 1] * w;
                    ss2 += src[p + 2] * w;
                }

                var d = lineOut + (xx * 3);
                output[d] = Clip8(ss0);
                output[d + 1] = Clip8(ss1);
                output[d + 2] = Clip8(ss2);
            }
        }

        Run(outHeight, (long)outWidth * outHeight * ksize, Row);
        return new RgbImage(outWidth, outHeight, output);
    }

    private static RgbImage VerticalPass(RgbImage input, int outHeight, Coefficients c)
    {
        var width = input.Width;
        var stride = width * 3;
        var output = new byte[stride * outHeight];
        var src = input.Pixels;
        var ksize = c.KernelSize;
        var weights = c.Fixed;
        var bounds = c.Bounds;

        void Row(int yy)
        {
            var ymin = bounds[yy * 2];
            var ymax = bounds[(yy * 2) + 1];
            var k = yy * ksize;
            var lineOut = yy * stride;
            for (var xx = 0; xx < stride; xx += 3)
            {
                int ss0 = 1 << (PrecisionBits - 1), ss1 = ss0, ss2 = ss0;
                var p = (ymin * stride) + xx;
                for (var y = 0; y < ymax; y++, p += stride)
                {
                    var w = weights[k + y];
                    ss0 += src[p] * w;
                    ss1 += src[p + 1] * w;
                    ss2 += src[p + 2] * w;
                }

                output[lineOut + xx] = Clip8(ss0);
                output[lineOut + xx + 1] = Clip8(ss1);
                output[lineOut + xx + 2] = Clip8(ss2);
            }
        }

        Run(outHeight, (long)width * outHeight * ksize, Row);
        return new RgbImage(width, outHeight, output);
    }

    private static void Run(int rows, long work, Action<int> row)
    {
        if (work < ParallelThreshold)
        {
            for (var y = 0; y < rows; y++)
            {
                row(y);
            }
        }
        else
        {
            // Every row is computed independently from read-only inputs, so the result does not depend on scheduling.
            Parallel.For(0, rows, row);
        }
    }

    // Pillow's clip8 table: the 22-bit fixed-point sum, shifted down, clamped to 0..255.
    private static byte Clip8(int value)
    {
        var v = value >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    private static (Func<double, double> Kernel, double Support) KernelOf(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => (BoxKernel, 0.5),
        ResampleFilter.Bilinear => (BilinearKernel, 1.0),
        ResampleFilter.Hamming => (HammingKernel, 1.0),
        ResampleFilter.Bicubic => (BicubicKernel, 2.0),
        ResampleFilter.Lanczos => (LanczosKernel, 3.0),
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a convolution filter."),
    };

    private static double BoxKernel(double x) => x > -0.5 && x <= 0.5 ? 1.0 : 0.0;

    private static double BilinearKernel(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static double HammingKernel(double x)
    {
        x = Math.Abs(x);
        if (x == 0.0)
        {
            return 1.0;
        }

        if (x >= 1.0)
        {
            return 0.0;
        }

        x *= Math.PI;

        // Pillow writes the window's constants as C floats (0.54f, 0.46f), promoted to double.
        return Math.Sin(x) / x * (0.54f + (0.46f * Math.Cos(x)));
    }

    private static double BicubicKernel(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1.0)
        {
            return ((((a + 2.0) * x) - (a + 3.0)) * x * x) + 1;
        }

        if (x < 2.0)
        {
            return ((((((x - 5) * x) + 8) * x) - 4) * a);
        }

        return 0.0;
    }

    private static double Sinc(double x)
    {
        if (x == 0.0)
        {
            return 1.0;
        }

        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    private static double LanczosKernel(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;

    /// <summary><c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c>: per output pixel, the first input index, the count, and fixed-point weights.</summary>
    private sealed class Coefficients
    {
        private Coefficients(int kernelSize, int[] bounds, int[] weights)
        {
            KernelSize = kernelSize;
            Bounds = bounds;
            Fixed = weights;
        }

        public int KernelSize { get; }

        /// <summary>Pairs (first input index, number of inputs) per output index.</summary>
        public int[] Bounds { get; }

        public int[] Fixed { get; }

        public static Coefficients Compute(int inSize, float in0, float in1, int outSize, Func<double, double> kernel, double filterSupport)
        {
            // The box edges are floats in Pillow; their difference is taken in float before widening.
            var scale = (double)(in1 - in0) / outSize;
            var filterScale = scale < 1.0 ? 1.0 : scale;
            var support = filterSupport * filterScale;
            var ksize = ((int)Math.Ceiling(support) * 2) + 1;
            if (outSize > int.MaxValue / (ksize * sizeof(double)))
            {
                throw new ArgumentOutOfRangeException(nameof(outSize), outSize, "The resize is too large.");
            }

            var bounds = new int[outSize * 2];
            var weights = new int[outSize * ksize];
            var k = new double[ksize];
            var inverseScale = 1.0 / filterScale;
            for (var xx = 0; xx < outSize; xx++)
            {
                var center = in0 + ((xx + 0.5) * scale);
                var xmin = (int)(center - support + 0.5);
                if (xmin < 0)
                {
                    xmin = 0;
                }

                var xmax = (int)(center + support + 0.5);
                if (xmax > inSize)
                {
                    xmax = inSize;
                }

                xmax -= xmin;
                var ww = 0.0;
                for (var x = 0; x < xmax; x++)
                {
                    var w = kernel((x + xmin - center + 0.5) * inverseScale);
                    k[x] = w;
                    ww += w;
                }

                for (var x = 0; x < xmax; x++)
                {
                    var w = ww != 0.0 ? k[x] / ww : k[x];

                    // Round half away from zero, then truncate: Pillow's (int)(±0.5 + w * 2^22).
                    weights[(xx * ksize) + x] = w < 0
                        ? (int)(-0.5 + (w * (1 << PrecisionBits)))
                        : (int)(0.5 + (w * (1 << PrecisionBits)));
                }

                bounds[xx * 2] = xmin;
                bounds[(xx * 2) + 1] = xmax;
            }

            return new Coefficients(ksize, bounds, weights);
        }
    }
}
