using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using SkiaSharp;

namespace Capa.Media.Images;

/// <summary>The encoded image formats <see cref="ImageDecoder"/> reads.</summary>
public enum ImageFormat
{
    Png,
    Jpeg,
    Gif,
    Webp,
}

/// <summary>Why an image could not be decoded.</summary>
public enum ImageDecodeError
{
    /// <summary>Decoded.</summary>
    None,

    /// <summary>The bytes do not start like a PNG, JPEG, GIF or WebP file.</summary>
    UnsupportedFormat,

    /// <summary>The bytes start like a supported format but are not a complete, valid image of it.</summary>
    InvalidImage,

    /// <summary>The header declares more pixels than allowed; nothing was decoded.</summary>
    TooManyPixels,
}

/// <summary>
/// The outcome of <see cref="ImageDecoder.Decode"/>: the image, or why there is none. <see cref="Width"/> and
/// <see cref="Height"/> are the header's (before EXIF orientation) whenever the header could be read, so that a
/// refusal can say how large the image was.
/// </summary>
public sealed record ImageDecodeResult
{
    /// <summary>The decoded image (orientation applied, alpha composited onto white); null on failure.</summary>
    public RgbImage? Image { get; init; }

    /// <summary>The format found by magic bytes; null when none was recognised.</summary>
    public ImageFormat? Format { get; init; }

    /// <summary>Why decoding failed, or <see cref="ImageDecodeError.None"/>.</summary>
    public ImageDecodeError Error { get; init; }

    /// <summary>The width the header declares (0 when unknown).</summary>
    public int Width { get; init; }

    /// <summary>The height the header declares (0 when unknown).</summary>
    public int Height { get; init; }

    /// <summary>A short explanation for logs (not meant for clients).</summary>
    public string Detail { get; init; } = "";

    /// <summary>True (with the image) when decoding succeeded.</summary>
    [MemberNotNullWhen(true, nameof(Image))]
    public bool Succeeded => Image is not null;
}

/// <summary>
/// Decodes PNG, JPEG, WebP and GIF (the first frame) into an <see cref="RgbImage"/> through SkiaSharp. The format is
/// found from the file's magic bytes, never from a declared media type. The pixel size is read from the header and an
/// image over the cap is refused before any pixel is decoded, so a small file declaring a huge canvas (a
/// decompression bomb) costs nothing. EXIF orientation is applied and alpha is composited onto white exactly as
/// Pillow's <c>alpha_composite</c> over an opaque white background does (the reference processors' RGB conversion).
/// Bad bytes never throw: every failure is a typed <see cref="ImageDecodeResult"/>.
/// </summary>
public static class ImageDecoder
{
    /// <summary>
    /// The default pixel cap: 8K UHD (7680 × 4320, about 33 megapixels), above any camera or screenshot a chat model
    /// usefully reads. Decoding needs four bytes per pixel transiently, so this bounds one decode to about 133 MB.
    /// </summary>
    public const long DefaultMaxPixels = 7680L * 4320;

    // Spelled as bytes: a u8 literal would encode \x89 as UTF-8 (two bytes).
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The format of <paramref name="bytes"/> from its magic bytes.</summary>
    public static bool TryDetectFormat(ReadOnlySpan<byte> bytes, out ImageFormat format)
    {
        if (bytes.StartsWith(PngSignature))
        {
            format = ImageFormat.Png;
            return true;
        }

        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            format = ImageFormat.Jpeg;
            return true;
        }

        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8))
        {
            format = ImageFormat.Gif;
            return true;
        }

        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            format = ImageFormat.Webp;
            return true;
        }

        format = default;
        return false;
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/>, refusing images with more than <paramref name="maxPixels"/> pixels before
    /// decoding them.
    /// </summary>
    public static ImageDecodeResult Decode(ReadOnlySpan<byte> bytes, long maxPixels = DefaultMaxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        if (!TryDetectFormat(bytes, out var format))
        {
            return new ImageDecodeResult { Error = ImageDecodeError.UnsupportedFormat, Detail = "The bytes are not a PNG, JPEG, GIF or WebP file." };
        }

        // PNG and GIF headers are fixed-offset fields: check them ourselves first, so the cap holds even where the
        // codec would refuse the file for another reason before reporting its size.
        if (TryReadHeaderSize(bytes, format, out var headerWidth, out var headerHeight) && (long)headerWidth * headerHeight > maxPixels)
        {
            return TooLarge(format, headerWidth, headerHeight, maxPixels);
        }

        try
        {
            return DecodeWithSkia(bytes, format, maxPixels);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The native codecs report through result codes; this covers the managed wrapper's own argument checks.
            return new ImageDecodeResult { Format = format, Error = ImageDecodeError.InvalidImage, Detail = $"The image could not be decoded: {e.Message}" };
        }
    }

    private static ImageDecodeResult DecodeWithSkia(ReadOnlySpan<byte> bytes, ImageFormat format, long maxPixels)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            return new ImageDecodeResult { Format = format, Error = ImageDecodeError.InvalidImage, Detail = $"The {format} header is invalid." };
        }

        var expected = format switch
        {
            ImageFormat.Png => SKEncodedImageFormat.Png,
            ImageFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            ImageFormat.Gif => SKEncodedImageFormat.Gif,
            _ => SKEncodedImageFormat.Webp,
        };
        if (codec.EncodedFormat != expected)
        {
            return new ImageDecodeResult { Format = format, Error = ImageDecodeError.InvalidImage, Detail = $"The codec read the {format} file as {codec.EncodedFormat}." };
        }

        var header = codec.Info;
        if (header.Width <= 0 || header.Height <= 0)
        {
            return new ImageDecodeResult { Format = format, Error = ImageDecodeError.InvalidImage, Detail = "The header declares an empty image." };
        }

        if ((long)header.Width * header.Height > maxPixels)
        {
            return TooLarge(format, header.Width, header.Height, maxPixels);
        }

        // No colour space on the target: pixels come out as stored, like Pillow (which ignores ICC profiles).
        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize64];

        // Frame 0 is the first frame of an animation (and the only image of everything else).
        var result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
        {
            // IncompleteInput (a truncated file) included: a partly grey image is not the image the client sent.
            return new ImageDecodeResult
            {
                Format = format,
                Error = ImageDecodeError.InvalidImage,
                Width = header.Width,
                Height = header.Height,
                Detail = $"The {format} data could not be decoded ({result}).",
            };
        }

        var rgb = CompositeOntoWhite(rgba);
        var image = Orient(new RgbImage(header.Width, header.Height, rgb), codec.EncodedOrigin);
        return new ImageDecodeResult { Image = image, Format = format, Width = header.Width, Height = header.Height };
    }

    private static ImageDecodeResult TooLarge(ImageFormat format, int width, int height, long maxPixels) => new()
    {
        Format = format,
        Error = ImageDecodeError.TooManyPixels,
        Width = width,
        Height = height,
        Detail = $"The image is {width}x{height} pixels; at most {maxPixels} pixels are accepted.",
    };

    /// <summary>The size declared by a PNG's IHDR or a GIF's logical screen descriptor, where present.</summary>
    internal static bool TryReadHeaderSize(ReadOnlySpan<byte> bytes, ImageFormat format, out int width, out int height)
    {
        width = 0;
        height = 0;
        switch (format)
        {
            // Signature (8), chunk length (4), "IHDR" (4), then width and height as big-endian uint32.
            case ImageFormat.Png when bytes.Length >= 24 && bytes.Slice(12, 4).SequenceEqual("IHDR"u8):
            {
                var w = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(16, 4));
                var h = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(20, 4));
                width = (int)Math.Min(w, int.MaxValue);
                height = (int)Math.Min(h, int.MaxValue);
                return true;
            }

            // "GIF89a", then the logical screen's width and height as little-endian uint16.
            case ImageFormat.Gif when bytes.Length >= 10:
                width = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(6, 2));
                height = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(8, 2));
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// RGBA (unpremultiplied) to RGB over opaque white, with Pillow's integer arithmetic for <c>alpha_composite</c>
    /// (7 fractional bits, division by 255 by shifts), so the result equals the reference processors' conversion.
    /// </summary>
    internal static byte[] CompositeOntoWhite(ReadOnlySpan<byte> rgba)
    {
        var rgb = new byte[rgba.Length / 4 * 3];
        for (int i = 0, j = 0; i < rgba.Length; i += 4, j += 3)
        {
            uint a = rgba[i + 3];
            if (a == 255)
            {
                rgb[j] = rgba[i];
                rgb[j + 1] = rgba[i + 1];
                rgb[j + 2] = rgba[i + 2];
                continue;
            }

            // Pillow: coef1 = a * 255 * 255 * 128 / (a * 255 + 255 * (255 - a)) = a * 128 with an opaque background.
            var coef1 = a << 7;
            var coef2 = (255u << 7) - coef1;
            rgb[j] = Blend(rgba[i], coef1, coef2);
            rgb[j + 1] = Blend(rgba[i + 1], coef1, coef2);
            rgb[j + 2] = Blend(rgba[i + 2], coef1, coef2);
        }

        return rgb;
    }

    private static byte Blend(uint source, uint coef1, uint coef2)
    {
        var tmp = (source * coef1) + (255u * coef2) + (0x80u << 7);
        return (byte)((((tmp >> 8) + tmp) >> 8) >> 7);
    }

    /// <summary>Applies an EXIF orientation so the image is upright (Pillow's <c>ImageOps.exif_transpose</c>).</summary>
    internal static RgbImage Orient(RgbImage image, SKEncodedOrigin origin)
    {
        int w = image.Width, h = image.Height;
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        if (origin is SKEncodedOrigin.TopLeft || !Enum.IsDefined(origin))
        {
            return image;
        }

        int outW = swap ? h : w, outH = swap ? w : h;
        var source = image.Pixels;
        var target = new byte[source.Length];
        for (var y = 0; y < outH; y++)
        {
            for (var x = 0; x < outW; x++)
            {
                // (sx, sy): the stored pixel that lands at (x, y) of the upright image.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),          // 2: mirrored horizontally
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y), // 3: rotated 180°
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),        // 4: mirrored vertically
                    SKEncodedOrigin.LeftTop => (y, x),                   // 5: transposed
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),          // 6: stored rotated 90° counter-clockwise
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x), // 7: transversed
                    _ => (w - 1 - y, x),                                 // 8: stored rotated 90° clockwise
                };
                var s = ((sy * w) + sx) * 3;
                var t = ((y * outW) + x) * 3;
                target[t] = source[s];
                target[t + 1] = source[s + 1];
                target[t + 2] = source[s + 2];
            }
        }

        return new RgbImage(outW, outH, target);
    }
}
