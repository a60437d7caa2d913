using System.Diagnostics;
using System.Globalization;
using Capa.Media.Images;

namespace Capa.Media.Tests.Images;

/// <summary>
/// Pillow itself (Debian's <c>/usr/bin/python3</c> with PIL) is the judge: random RGB images of odd sizes are resized
/// by both and must come out byte for byte the same.
/// </summary>
public sealed class PillowResamplerTests
{
    // Reads a raw RGB file, resizes it with Pillow and writes the raw RGB result. "tall" spells out, through the public
    // API, the two steps Pillow 12.2+ takes for images over 100 times taller than wide, so that older Pillows judge it too.
    private const string Script = """
        import sys
        from PIL import Image
        src, w, h, dst, ow, oh, f, mode = sys.argv[1:9]
        w, h, ow, oh, f = int(w), int(h), int(ow), int(oh), int(f)
        with open(src, "rb") as fh:
            im = Image.frombytes("RGB", (w, h), fh.read())
        if mode == "tall":
            out = im.resize((w, oh), f, box=(0, 0, w, h)).resize((ow, oh), f, box=(0, 0, w, oh))
        elif mode == "box":
            box = tuple(float(v) for v in sys.argv[9:13])
            out = im.resize((ow, oh), f, box=box)
        else:
            out = im.resize((ow, oh), f)
        assert out.mode == "RGB" and out.size == (ow, oh)
        with open(dst, "wb") as fh:
            fh.write(out.tobytes())
        """;

    private const int Nearest = 0;
    private const int Lanczos = 1;
    private const int Bilinear = 2;
    private const int Bicubic = 3;
    private const int BoxFilter = 4;
    private const int Hamming = 5;

    private static readonly Lazy<string?> MissingPillow = new(FindMissingPillow);

    [SkippableTheory]
    [InlineData(37, 23, 512, 318, Lanczos)]
    [InlineData(37, 23, 512, 318, Bicubic)]
    [InlineData(1000, 777, 333, 259, Lanczos)]
    [InlineData(1000, 777, 333, 259, Bicubic)]
    [InlineData(1, 1, 7, 5, Lanczos)]
    [InlineData(1, 1, 7, 5, Bicubic)]
    [InlineData(640, 480, 2048, 1536, Lanczos)]
    [InlineData(640, 480, 2048, 1536, Bicubic)]
    [InlineData(513, 511, 512, 512, Lanczos)]
    [InlineData(2048, 615, 512, 512, Lanczos)]
    [InlineData(301, 17, 301, 40, Lanczos)]
    [InlineData(301, 17, 90, 17, Bicubic)]
    [InlineData(3, 700, 1, 9, Lanczos)]
    [InlineData(97, 61, 45, 130, Bilinear)]
    [InlineData(97, 61, 45, 130, Nearest)]
    [InlineData(97, 61, 200, 31, Nearest)]
    [InlineData(97, 61, 45, 130, BoxFilter)]
    [InlineData(97, 61, 45, 130, Hamming)]
    public void Resize_matches_pillow_byte_for_byte(int width, int height, int outWidth, int outHeight, int pillowFilter)
    {
        var image = RandomImage(width, height, seed: (width * 31) + (height * 7) + pillowFilter);
        var expected = RunPillow(image, outWidth, outHeight, pillowFilter, "plain");

        var actual = PillowResampler.Resize(image, outWidth, outHeight, PillowResampler.FilterFromPillowCode(pillowFilter));

        AssertSamePixels(expected, actual);
    }

    [SkippableTheory]
    [InlineData(4, 900, 3, 40, Lanczos)]
    [InlineData(2, 500, 2, 7, Bicubic)]
    [InlineData(3, 400, 5, 50, Nearest)]
    public void Very_tall_images_are_shrunk_vertically_first_as_pillow_does(int width, int height, int outWidth, int outHeight, int pillowFilter)
    {
        var image = RandomImage(width, height, seed: height + pillowFilter);
        var expected = RunPillow(image, outWidth, outHeight, pillowFilter, "tall");

        var actual = PillowResampler.Resize(image, outWidth, outHeight, PillowResampler.FilterFromPillowCode(pillowFilter));

        AssertSamePixels(expected, actual);
    }

    [SkippableTheory]
    [InlineData(Lanczos)]
    [InlineData(Bicubic)]
    [InlineData(Nearest)]
    public void A_fractional_source_box_matches_pillow(int pillowFilter)
    {
        var image = RandomImage(83, 59, seed: 11 + pillowFilter);
        var box = new PillowResampler.Box(3.25f, 1.5f, 80.75f, 57.125f);
        var expected = RunPillow(image, 40, 70, pillowFilter, "box", box);

        var actual = PillowResampler.ResizeBox(image, 40, 70, PillowResampler.FilterFromPillowCode(pillowFilter), box);

        AssertSamePixels(expected, actual);
    }

    [Fact]
    public void Same_size_is_a_copy_and_one_pixel_stays_its_colour()
    {
        var image = RandomImage(13, 9, seed: 5);
        var copy = PillowResampler.Resize(image, 13, 9, ResampleFilter.Lanczos);
        Assert.Equal(image.Pixels, copy.Pixels);
        Assert.NotSame(image.Pixels, copy.Pixels);

        // Every weight set sums to one, so a flat image stays flat through both passes whatever the filter.
        var flat = new RgbImage(1, 1, [12, 200, 99]);
        foreach (var filter in Enum.GetValues<ResampleFilter>())
        {
            var big = PillowResampler.Resize(flat, 9, 4, filter);
            for (var i = 0; i < big.Pixels.Length; i += 3)
            {
                Assert.Equal([12, 200, 99], big.Pixels[i..(i + 3)]);
            }
        }
    }

    [Fact]
    public void Pillow_filter_numbers_map_to_filters()
    {
        Assert.Equal(ResampleFilter.Lanczos, PillowResampler.FilterFromPillowCode(1));
        Assert.Equal(ResampleFilter.Bicubic, PillowResampler.FilterFromPillowCode(3));
        Assert.False(PillowResampler.TryFilterFromPillowCode(6, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => PillowResampler.FilterFromPillowCode(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PillowResampler.Resize(new RgbImage(1, 1, new byte[3]), 0, 1, ResampleFilter.Bicubic));
    }

    internal static RgbImage RandomImage(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);

        // Mix in flat runs and hard edges: noise alone rarely lands on the exact rounding boundaries flat areas hit.
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if ((x / 5) % 3 == 0)
                {
                    var i = ((y * width) + x) * 3;
                    pixels[i] = (byte)((y % 2) * 255);
                    pixels[i + 1] = 128;
                    pixels[i + 2] = (byte)(x * 7);
                }
            }
        }

        return new RgbImage(width, height, pixels);
    }

    private static void AssertSamePixels(RgbImage expected, RgbImage actual)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        var differences = 0;
        var first = -1;
        for (var i = 0; i < expected.Pixels.Length; i++)
        {
            if (expected.Pixels[i] != actual.Pixels[i])
            {
                differences++;
                first = first < 0 ? i : first;
            }
        }

        Assert.True(
            differences == 0,
            differences == 0 ? string.Empty : $"{differences} of {expected.Pixels.Length} bytes differ; first at pixel {first / 3} channel {first % 3}: Pillow {expected.Pixels[first]}, Capa {actual.Pixels[first]}.");
    }

    private static RgbImage RunPillow(RgbImage image, int outWidth, int outHeight, int pillowFilter, string mode, PillowResampler.Box? box = null)
    {
        Skip.If(MissingPillow.Value is not null, MissingPillow.Value);
        var dir = Directory.CreateTempSubdirectory("capa-pillow-");
        try
        {
            var script = Path.Combine(dir.FullName, "resize.py");
            var input = Path.Combine(dir.FullName, "in.rgb");
            var output = Path.Combine(dir.FullName, "out.rgb");
            File.WriteAllText(script, Script);
            File.WriteAllBytes(input, image.Pixels);
            List<string> args =
            [
                script, input, Text(image.Width), Text(image.Height), output, Text(outWidth), Text(outHeight), Text(pillowFilter), mode,
            ];
            if (box is { } b)
            {
                args.AddRange([Text(b.X0), Text(b.Y0), Text(b.X1), Text(b.Y1)]);
            }

            var (code, errors) = RunPython(args);
            Assert.True(code == 0, $"Pillow failed: {errors}");
            return new RgbImage(outWidth, outHeight, File.ReadAllBytes(output));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string? FindMissingPillow()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return "/usr/bin/python3 is not installed; the Pillow comparison needs Debian's python3-pil.";
        }

        var (code, _) = RunPython(["-c", "import PIL.Image"]);
        return code == 0 ? null : "/usr/bin/python3 has no PIL (install python3-pil); the Pillow comparison is skipped.";
    }

    private static (int Code, string Errors) RunPython(IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "python did not finish within 60 s");
        }

        return (process.ExitCode, errors.Result);
    }
}
