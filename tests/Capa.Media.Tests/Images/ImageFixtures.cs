using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Capa.Media.Images;
using SkiaSharp;

namespace Capa.Media.Tests.Images;

/// <summary>Encoded test images, made with SkiaSharp, by hand, or with Debian's Pillow where SkiaSharp cannot write the format.</summary>
internal static class ImageFixtures
{
    /// <summary>Debian's python with PIL (not whatever python3 is on PATH).</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> PillowMissing = new(FindPillow);

    /// <summary>Null when <c>/usr/bin/python3</c> imports PIL; else why the Pillow tests are skipped.</summary>
    public static string? WhyNoPillow => PillowMissing.Value;

    /// <summary>A pattern where every pixel differs from its neighbours, so any misplaced pixel shows.</summary>
    public static RgbImage Pattern(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                pixels[i] = (byte)((x * 37) + (y * 11));
                pixels[i + 1] = (byte)((y * 53) + 7);
                pixels[i + 2] = (byte)((x * 5) ^ (y * 29));
            }
        }

        return new RgbImage(width, height, pixels);
    }

    /// <summary>Encodes RGBA (unpremultiplied) pixels with SkiaSharp.</summary>
    public static byte[] EncodeRgba(int width, int height, byte[] rgba, SKEncodedImageFormat format, int quality = 100)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var pixmap = bitmap.PeekPixels();
        using SKData? data = format == SKEncodedImageFormat.Webp && quality == 100
            ? pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            : pixmap.Encode(format, quality);
        Assert.NotNull(data);
        return data.ToArray();
    }

    /// <summary>Encodes an opaque RGB image with SkiaSharp (WebP at quality 100 is lossless).</summary>
    public static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality = 100)
    {
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            rgba[j] = image.Pixels[i];
            rgba[j + 1] = image.Pixels[i + 1];
            rgba[j + 2] = image.Pixels[i + 2];
            rgba[j + 3] = 255;
        }

        return EncodeRgba(image.Width, image.Height, rgba, format, quality);
    }

    /// <summary>
    /// A well-formed PNG (valid CRCs, a real zlib stream of one empty row) whose IHDR declares
    /// <paramref name="width"/> × <paramref name="height"/>: what a decompression bomb's header looks like.
    /// </summary>
    public static byte[] PngHeaderOnly(uint width, uint height)
    {
        using var file = new MemoryStream();
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        WriteChunk(file, "IHDR"u8, ihdr);
        using var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            z.Write(new byte[1 + 300]);
        }

        WriteChunk(file, "IDAT"u8, zlib.ToArray());
        WriteChunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    private static void WriteChunk(Stream stream, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        stream.Write(word);
        var crcInput = new byte[4 + data.Length];
        type.CopyTo(crcInput);
        data.CopyTo(crcInput.AsSpan(4));
        stream.Write(crcInput);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(crcInput));
        stream.Write(word);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }

    /// <summary>
    /// Runs a Python script (with PIL) that writes files into <paramref name="directory"/>, passed as its first
    /// argument; fails the test with the script's errors when it fails.
    /// </summary>
    public static void RunPython(string script, string directory)
    {
        var start = new ProcessStartInfo(Python, ["-c", script, directory])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("The Pillow script did not finish within 60 s.");
        }

        Assert.True(process.ExitCode == 0, $"The Pillow script failed: {stderr.Result}{stdout.Result}");
    }

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public static TempFolder CreateTempFolder() => new(Directory.CreateTempSubdirectory("capa-images-").FullName);

    private static string? FindPillow()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is not installed (Debian: apt-get install python3-pil); the Pillow cross-checks are skipped.";
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import PIL"]) { RedirectStandardError = true })!;
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                return "Importing PIL timed out; the Pillow cross-checks are skipped.";
            }

            return process.ExitCode == 0 ? null : $"{Python} cannot import PIL (Debian: apt-get install python3-pil); the Pillow cross-checks are skipped.";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{Python} could not be started ({e.Message}); the Pillow cross-checks are skipped.";
        }
    }

    /// <summary>A temporary folder that deletes itself.</summary>
    internal sealed class TempFolder(string path) : IDisposable
    {
        public string Path { get; } = path;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }
}
