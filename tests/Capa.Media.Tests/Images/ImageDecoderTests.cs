using System.Text;
using Capa.Media.Images;
using SkiaSharp;

namespace Capa.Media.Tests.Images;

public sealed class ImageDecoderTests
{
    [Theory]
    [InlineData(SKEncodedImageFormat.Png, ImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Webp, ImageFormat.Webp)]
    public void LosslessFormats_DecodeToTheExactPixels(SKEncodedImageFormat encoding, ImageFormat expected)
    {
        var image = ImageFixtures.Pattern(37, 21);
        var result = ImageDecoder.Decode(ImageFixtures.Encode(image, encoding));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(expected, result.Format);
        Assert.Equal((37, 21), (result.Image.Width, result.Image.Height));
        Assert.Equal(image.Pixels, result.Image.Pixels);
    }

    [Fact]
    public void Jpeg_DecodesCloseToTheEncodedPixels()
    {
        // Flat 16×16 blocks (whole chroma-subsampled MCUs) survive JPEG almost unchanged; the check is about placement.
        var pixels = new byte[64 * 32 * 3];
        for (var y = 0; y < 32; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                var i = ((y * 64) + x) * 3;
                pixels[i] = (byte)(x < 32 ? 230 : 20);
                pixels[i + 1] = (byte)(y < 16 ? 200 : 40);
                pixels[i + 2] = 90;
            }
        }

        var image = new RgbImage(64, 32, pixels);
        var result = ImageDecoder.Decode(ImageFixtures.Encode(image, SKEncodedImageFormat.Jpeg, 95));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(ImageFormat.Jpeg, result.Format);
        Assert.Equal((64, 32), (result.Image.Width, result.Image.Height));

        // Chroma upsampling blends colours across block edges, so only the blocks' insides are compared.
        for (var y = 4; y < 32; y += y % 16 == 11 ? 9 : 1)
        {
            for (var x = 4; x < 64; x += x % 32 == 27 ? 9 : 1)
            {
                for (var c = 0; c < 3; c++)
                {
                    var i = (((y * 64) + x) * 3) + c;
                    Assert.True(Math.Abs(result.Image.Pixels[i] - pixels[i]) <= 12, $"At ({x}, {y}) channel {c}: {result.Image.Pixels[i]} for {pixels[i]}.");
                }
            }
        }
    }

    [Fact]
    public void TransparentPixels_AreCompositedOntoWhite()
    {
        // Opaque red, fully transparent black, half-transparent red, nearly transparent dark blue.
        byte[] rgba = [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 128, 10, 20, 30, 1];
        var result = ImageDecoder.Decode(ImageFixtures.EncodeRgba(4, 1, rgba, SKEncodedImageFormat.Png));

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(new byte[] { 255, 0, 0, 255, 255, 255, 255, 127, 127, 254, 254, 254 }, result.Image.Pixels);
    }

    [SkippableFact]
    public void AlphaComposite_EqualsPillows_ForEveryAlphaAndValue()
    {
        Skip.If(ImageFixtures.WhyNoPillow is not null, ImageFixtures.WhyNoPillow);

        // 256 alphas × 256 values of the red channel; green and blue carry other values so all three are checked.
        var rgba = new byte[256 * 256 * 4];
        for (var a = 0; a < 256; a++)
        {
            for (var v = 0; v < 256; v++)
            {
                var i = ((a * 256) + v) * 4;
                rgba[i] = (byte)v;
                rgba[i + 1] = (byte)(255 - v);
                rgba[i + 2] = (byte)(v * 7);
                rgba[i + 3] = (byte)a;
            }
        }

        using var folder = ImageFixtures.CreateTempFolder();
        File.WriteAllBytes(folder.File("in.png"), ImageFixtures.EncodeRgba(256, 256, rgba, SKEncodedImageFormat.Png));
        ImageFixtures.RunPython(
            """
            import sys, os
            from PIL import Image
            d = sys.argv[1]
            im = Image.open(os.path.join(d, 'in.png')).convert('RGBA')
            bg = Image.new('RGBA', im.size, (255, 255, 255))
            open(os.path.join(d, 'out.rgb'), 'wb').write(Image.alpha_composite(bg, im).convert('RGB').tobytes())
            """,
            folder.Path);

        var result = ImageDecoder.Decode(File.ReadAllBytes(folder.File("in.png")));
        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(File.ReadAllBytes(folder.File("out.rgb")), result.Image.Pixels);
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ExifOrientation_IsApplied_LikePillowsExifTranspose(int orientation)
    {
        Skip.If(ImageFixtures.WhyNoPillow is not null, ImageFixtures.WhyNoPillow);
        using var folder = ImageFixtures.CreateTempFolder();

        // Four flat quadrants on a 2:1 canvas: each of the eight orientations puts them somewhere else.
        ImageFixtures.RunPython(
            $$"""
            import sys, os
            from PIL import Image, ImageOps
            d = sys.argv[1]
            im = Image.new('RGB', (64, 32))
            for (x, y, c) in [(0, 0, (220, 30, 30)), (32, 0, (30, 200, 30)), (0, 16, (30, 30, 220)), (32, 16, (240, 240, 240))]:
                im.paste(c, (x, y, x + 32, y + 16))
            exif = Image.Exif()
            exif[0x0112] = {{orientation}}
            im.save(os.path.join(d, 'in.jpg'), quality=95, exif=exif.tobytes())
            up = ImageOps.exif_transpose(Image.open(os.path.join(d, 'in.jpg'))).convert('RGB')
            open(os.path.join(d, 'size.txt'), 'w').write('%d %d' % up.size)
            open(os.path.join(d, 'out.rgb'), 'wb').write(up.tobytes())
            """,
            folder.Path);

        var result = ImageDecoder.Decode(File.ReadAllBytes(folder.File("in.jpg")));
        Assert.True(result.Succeeded, result.Detail);
        var size = File.ReadAllText(folder.File("size.txt")).Split(' ').Select(int.Parse).ToArray();
        Assert.Equal((size[0], size[1]), (result.Image.Width, result.Image.Height));
        Assert.Equal(orientation >= 5 ? (32, 64) : (64, 32), (result.Image.Width, result.Image.Height));

        // Both sides decode the same JPEG with libjpeg(-turbo); allow a little for a different IDCT or upsampling.
        var expected = File.ReadAllBytes(folder.File("out.rgb"));
        Assert.Equal(expected.Length, result.Image.Pixels.Length);
        var worst = expected.Zip(result.Image.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 16, $"The largest difference from Pillow is {worst}.");
    }

    [Fact]
    public void Orient_MapsEveryPixel_ForEachOrigin()
    {
        // 3×2 with distinct pixels: [a b c / d e f]; expected layouts per EXIF orientation.
        var pixels = new byte[3 * 2 * 3];
        for (var i = 0; i < 6; i++)
        {
            pixels[i * 3] = (byte)('a' + i);
        }

        var image = new RgbImage(3, 2, pixels);
        string Layout(RgbImage o) => $"{o.Width}x{o.Height}:" + new string(Enumerable.Range(0, o.Width * o.Height).Select(i => (char)o.Pixels[i * 3]).ToArray());

        Assert.Equal("3x2:abcdef", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.TopLeft)));
        Assert.Equal("3x2:cbafed", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.TopRight)));
        Assert.Equal("3x2:fedcba", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.BottomRight)));
        Assert.Equal("3x2:defabc", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.BottomLeft)));
        Assert.Equal("2x3:adbecf", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.LeftTop)));
        Assert.Equal("2x3:daebfc", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.RightTop)));
        Assert.Equal("2x3:fcebda", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.RightBottom)));
        Assert.Equal("2x3:cfbead", Layout(ImageDecoder.Orient(image, SKEncodedOrigin.LeftBottom)));
    }

    [SkippableFact]
    public void AnimatedGif_DecodesItsFirstFrame()
    {
        Skip.If(ImageFixtures.WhyNoPillow is not null, ImageFixtures.WhyNoPillow);
        using var folder = ImageFixtures.CreateTempFolder();
        ImageFixtures.RunPython(
            """
            import sys, os
            from PIL import Image
            d = sys.argv[1]
            frames = [Image.new('RGB', (20, 10), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
            frames[0].save(os.path.join(d, 'anim.gif'), save_all=True, append_images=frames[1:], duration=100, loop=0)
            """,
            folder.Path);

        var bytes = File.ReadAllBytes(folder.File("anim.gif"));
        var result = ImageDecoder.Decode(bytes);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal(ImageFormat.Gif, result.Format);
        Assert.Equal((20, 10), (result.Image.Width, result.Image.Height));
        Assert.All(result.Image.Pixels.Chunk(3), p => Assert.Equal(new byte[] { 255, 0, 0 }, p));
    }

    [Fact]
    public void TruncatedPng_IsInvalid()
    {
        var png = ImageFixtures.Encode(ImageFixtures.Pattern(64, 64), SKEncodedImageFormat.Png);
        var result = ImageDecoder.Decode(png.AsSpan(0, png.Length / 2));

        Assert.Equal(ImageDecodeError.InvalidImage, result.Error);
        Assert.Equal(ImageFormat.Png, result.Format);
        Assert.Null(result.Image);
    }

    [Fact]
    public void PngSignatureWithGarbage_IsInvalid()
    {
        var bytes = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.Concat(Encoding.ASCII.GetBytes(new string('x', 100))).ToArray();
        Assert.Equal(ImageDecodeError.InvalidImage, ImageDecoder.Decode(bytes).Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello, this is text and not an image")]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"/>")]
    [InlineData("RIFF\u0010\0\0\0WAVEfmt ")]
    [InlineData("BM6\0\0\0\0\0\0\06\0\0\0")]
    public void NonImageBytes_AreAnUnsupportedFormat(string text)
    {
        var result = ImageDecoder.Decode(Encoding.Latin1.GetBytes(text));
        Assert.Equal(ImageDecodeError.UnsupportedFormat, result.Error);
        Assert.Null(result.Format);
    }

    [Fact]
    public void HugePngHeader_IsRefusedBeforeDecoding()
    {
        // 30000² RGBA would need 3.6 GB; the refusal comes from the header alone.
        var result = ImageDecoder.Decode(ImageFixtures.PngHeaderOnly(30000, 30000));

        Assert.Equal(ImageDecodeError.TooManyPixels, result.Error);
        Assert.Equal((30000, 30000), (result.Width, result.Height));
        Assert.Contains("30000x30000", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeJpegHeader_IsRefusedFromTheCodecsInfo()
    {
        // A real JPEG whose SOF0 frame header is patched to declare 30000×30000.
        var jpeg = ImageFixtures.Encode(ImageFixtures.Pattern(16, 16), SKEncodedImageFormat.Jpeg, 90);
        var sof = -1;
        for (var i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                sof = i;
                break;
            }
        }

        Assert.True(sof > 0, "The encoded JPEG has no SOF marker.");
        jpeg[sof + 5] = 30000 >> 8;
        jpeg[sof + 6] = 30000 & 0xFF;
        jpeg[sof + 7] = 30000 >> 8;
        jpeg[sof + 8] = 30000 & 0xFF;

        var result = ImageDecoder.Decode(jpeg);
        Assert.Equal(ImageDecodeError.TooManyPixels, result.Error);
        Assert.Equal((30000, 30000), (result.Width, result.Height));
    }

    [Fact]
    public void ThePixelCap_IsTheCallersChoice()
    {
        var png = ImageFixtures.Encode(ImageFixtures.Pattern(40, 30), SKEncodedImageFormat.Png);
        Assert.Equal(ImageDecodeError.TooManyPixels, ImageDecoder.Decode(png, maxPixels: 1199).Error);
        Assert.True(ImageDecoder.Decode(png, maxPixels: 1200).Succeeded);
    }

    [Fact]
    public void TheFormat_ComesFromMagicBytes()
    {
        Assert.True(ImageDecoder.TryDetectFormat(ImageFixtures.Encode(ImageFixtures.Pattern(4, 4), SKEncodedImageFormat.Png), out var png));
        Assert.Equal(ImageFormat.Png, png);
        Assert.True(ImageDecoder.TryDetectFormat(ImageFixtures.Encode(ImageFixtures.Pattern(4, 4), SKEncodedImageFormat.Jpeg, 80), out var jpeg));
        Assert.Equal(ImageFormat.Jpeg, jpeg);
        Assert.True(ImageDecoder.TryDetectFormat(ImageFixtures.Encode(ImageFixtures.Pattern(4, 4), SKEncodedImageFormat.Webp), out var webp));
        Assert.Equal(ImageFormat.Webp, webp);
        Assert.True(ImageDecoder.TryDetectFormat("GIF89a\x01\0\x01\0"u8, out var gif));
        Assert.Equal(ImageFormat.Gif, gif);
        Assert.False(ImageDecoder.TryDetectFormat("RIFF\0\0\0\0AVI "u8, out _));
    }

    [Fact]
    public void LossyWebp_Decodes()
    {
        var result = ImageDecoder.Decode(ImageFixtures.Encode(ImageFixtures.Pattern(50, 40), SKEncodedImageFormat.Webp, 80));
        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal((50, 40), (result.Image.Width, result.Image.Height));
    }
}
