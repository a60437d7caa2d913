using System.Diagnostics;
using Capa.Engine.Images.Encoding;

namespace Capa.Engine.Images.Tests.Encoding;

public sealed class ImageCodecTests
{
    private static RgbImage Gradient(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                pixels[i] = (byte)(x * 255 / (width - 1));
                pixels[i + 1] = (byte)(y * 255 / (height - 1));
                pixels[i + 2] = (byte)((x + y) % 256);
            }
        }

        return new RgbImage(width, height, 3, pixels);
    }

    [Fact]
    public void Png_is_lossless_and_deterministic()
    {
        RgbImage image = Gradient(37, 21);
        byte[] png = ImageCodec.Encode(image, ImageOutputFormat.Png);
        Assert.Equal(png, ImageCodec.Encode(image, ImageOutputFormat.Png));
        RgbImage decoded = ImageCodec.DecodeRgba(png);
        Assert.Equal((37, 21), (decoded.Width, decoded.Height));
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            Assert.Equal(image.Pixels[i..(i + 3)], decoded.Pixels[j..(j + 3)]);
            Assert.Equal(255, decoded.Pixels[j + 3]);
        }
    }

    [SkippableFact]
    public async Task Ffmpeg_decodes_the_png_to_the_same_pixels()
    {
        string? ffmpeg = new[] { "/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg" }.FirstOrDefault(File.Exists);
        Skip.If(ffmpeg is null, "ffmpeg is not installed; the independent PNG decoding check needs it.");
        RgbImage image = Gradient(50, 30);
        string path = Path.Combine(Path.GetTempPath(), "capa-png-" + Guid.NewGuid().ToString("N") + ".png");
        File.WriteAllBytes(path, ImageCodec.Encode(image, ImageOutputFormat.Png));
        try
        {
            var start = new ProcessStartInfo(ffmpeg!, ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            using var output = new MemoryStream();
            Task copy = process.StandardOutput.BaseStream.CopyToAsync(output);
            Task<string> errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            await copy;
            Assert.True(process.ExitCode == 0, await errors);
            Assert.Equal(image.Pixels, output.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ImageOutputFormat.Jpeg, new byte[] { 0xFF, 0xD8, 0xFF })]
    [InlineData(ImageOutputFormat.Webp, new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F' })]
    [InlineData(ImageOutputFormat.Png, new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })]
    public void Encodes_each_format_with_its_signature(ImageOutputFormat format, byte[] signature)
    {
        byte[] bytes = ImageCodec.Encode(Gradient(16, 16), format, 80);
        Assert.Equal(signature, bytes[..signature.Length]);
        Assert.Equal((16, 16), (ImageCodec.DecodeRgba(bytes).Width, ImageCodec.DecodeRgba(bytes).Height));
    }

    [Fact]
    public void Resizes_to_the_exact_size()
    {
        RgbImage resized = ImageCodec.Resize(Gradient(64, 64), 1024, 1792);
        Assert.Equal((1024, 1792, 3), (resized.Width, resized.Height, resized.Channels));
    }

    [Fact]
    public void Refuses_what_is_not_an_image()
    {
        Assert.Throws<ImageDecodeException>(() => ImageCodec.DecodeRgba("not an image"u8));
        Assert.Throws<ImageDecodeException>(() => ImageCodec.DecodeRgba([]));
    }
}
