namespace Capa.Engine.Images;

/// <summary>An 8-bit image, row-major, <see cref="Channels"/> bytes per pixel (3: RGB, 4: RGBA unpremultiplied).</summary>
public sealed record RgbImage
{
    /// <summary>Creates an image over <paramref name="pixels"/>.</summary>
    public RgbImage(int width, int height, int channels, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (3 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), "3 (RGB) or 4 (RGBA).");
        }

        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * channels)
        {
            throw new ArgumentException("The pixel buffer does not match the size.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public int Channels { get; }

    public byte[] Pixels { get; }
}
