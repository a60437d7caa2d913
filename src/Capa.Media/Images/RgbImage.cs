namespace Capa.Media.Images;

/// <summary>
/// A decoded image as 8-bit RGB, row-major, three bytes per pixel (<c>Pixels[(y * Width + x) * 3 + c]</c>), with
/// alpha already composited onto white and EXIF orientation applied. The shape every image processor starts from.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {pixels.LongLength}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>RGB bytes, row-major, no padding.</summary>
    public byte[] Pixels { get; }
}
