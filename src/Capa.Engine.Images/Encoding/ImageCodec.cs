using SkiaSharp;

namespace Capa.Engine.Images.Encoding;

/// <summary>Output formats of the image endpoints.</summary>
public enum ImageOutputFormat
{
    Png,
    Jpeg,
    Webp,
}

/// <summary>An uploaded image that cannot be decoded (not an image, too large, or corrupt).</summary>
public sealed class ImageDecodeException(string message) : Exception(message);

/// <summary>
/// Encodes, decodes and resizes images through SkiaSharp. Encoding is deterministic (no timestamps or other metadata), so
/// the same pixels always give the same bytes. Decoding is bounded: images over <see cref="MaxPixels"/> are refused from
/// their header, before any pixel is decoded.
/// </summary>
public static class ImageCodec
{
    /// <summary>The most pixels an uploaded image may have (4096 × 4096).</summary>
    public const long MaxPixels = 4096L * 4096;

    /// <summary>Encodes <paramref name="image"/>; <paramref name="quality"/> (0–100) applies to JPEG and WebP.</summary>
    public static byte[] Encode(RgbImage image, ImageOutputFormat format, int quality = 100)
    {
        ArgumentNullException.ThrowIfNull(image);
        using SKBitmap bitmap = ToBitmap(image);
        using SKImage sk = SKImage.FromBitmap(bitmap);
        SKEncodedImageFormat skFormat = format switch
        {
            ImageOutputFormat.Jpeg => SKEncodedImageFormat.Jpeg,
            ImageOutputFormat.Webp => SKEncodedImageFormat.Webp,
            _ => SKEncodedImageFormat.Png,
        };
        using SKData data = sk.Encode(skFormat, Math.Clamp(quality, 0, 100))
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        return data.ToArray();
    }

    /// <summary>The MIME type of a format.</summary>
    public static string ContentType(ImageOutputFormat format) => format switch
    {
        ImageOutputFormat.Jpeg => "image/jpeg",
        ImageOutputFormat.Webp => "image/webp",
        _ => "image/png",
    };

    /// <summary>The file extension of a format, without the dot.</summary>
    public static string Extension(ImageOutputFormat format) => format switch
    {
        ImageOutputFormat.Jpeg => "jpeg",
        ImageOutputFormat.Webp => "webp",
        _ => "png",
    };

    /// <summary>Decodes an uploaded image to RGBA (unpremultiplied).</summary>
    /// <exception cref="ImageDecodeException">The bytes are not an image Skia can decode, or it is too large.</exception>
    public static RgbImage DecodeRgba(ReadOnlySpan<byte> bytes)
    {
        using SKData data = SKData.CreateCopy(bytes);
        using SKCodec? codec = SKCodec.Create(data) ?? throw new ImageDecodeException("The file is not an image that can be decoded.");
        SKImageInfo header = codec.Info;
        if (header.Width <= 0 || header.Height <= 0 || (long)header.Width * header.Height > MaxPixels)
        {
            throw new ImageDecodeException($"The image is {header.Width}x{header.Height}; at most {MaxPixels} pixels are accepted.");
        }

        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                SKCodecResult result = codec.GetPixels(info, (IntPtr)p);
                if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
                {
                    throw new ImageDecodeException($"The image could not be decoded ({result}).");
                }
            }
        }

        return new RgbImage(header.Width, header.Height, 4, pixels);
    }

    /// <summary>Resizes with a Mitchell cubic filter (the channel count is kept).</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width == width && image.Height == height)
        {
            return image;
        }

        bool alpha = image.Channels == 4;
        using SKBitmap source = ToBitmap(image);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, alpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        using var target = new SKBitmap(info);
        if (!source.ScalePixels(target, new SKSamplingOptions(SKCubicResampler.Mitchell)))
        {
            throw new InvalidOperationException("SkiaSharp could not resize the image.");
        }

        return FromBitmap(target, alpha ? 4 : 3);
    }

    private static SKBitmap ToBitmap(RgbImage image)
    {
        bool alpha = image.Channels == 4;
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, alpha ? SKAlphaType.Unpremul : SKAlphaType.Opaque);
        var bitmap = new SKBitmap(info);
        Span<byte> target = bitmap.GetPixelSpan();
        if (alpha)
        {
            image.Pixels.CopyTo(target);
        }
        else
        {
            ReadOnlySpan<byte> rgb = image.Pixels;
            for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
            {
                target[j] = rgb[i];
                target[j + 1] = rgb[i + 1];
                target[j + 2] = rgb[i + 2];
                target[j + 3] = 255;
            }
        }

        return bitmap;
    }

    private static RgbImage FromBitmap(SKBitmap bitmap, int channels)
    {
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        var pixels = new byte[bitmap.Width * bitmap.Height * channels];
        if (channels == 4)
        {
            rgba.CopyTo(pixels);
        }
        else
        {
            for (int i = 0, j = 0; j < pixels.Length; i += 4, j += 3)
            {
                pixels[j] = rgba[i];
                pixels[j + 1] = rgba[i + 1];
                pixels[j + 2] = rgba[i + 2];
            }
        }

        return new RgbImage(bitmap.Width, bitmap.Height, channels, pixels);
    }
}
