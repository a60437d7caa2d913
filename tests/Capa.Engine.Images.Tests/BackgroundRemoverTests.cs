using Capa.TestModels.Images;

namespace Capa.Engine.Images.Tests;

public sealed class BackgroundRemoverTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-rmbg-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string Write(string name, ulong seed = 0)
    {
        string directory = Path.Combine(_root, name);
        BackgroundRemovalTestModelWriter.Write(directory, seed);
        return directory;
    }

    private static RgbImage Pattern(int width, int height, int phase)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)((i * 37 / 3) + (phase * 91));
        }

        return new RgbImage(width, height, 3, pixels);
    }

    [Fact]
    public void An_rmbg_folder_is_recognised_and_others_are_not()
    {
        string rmbg = Write("rmbg");
        Assert.True(BackgroundRemover.IsBackgroundRemovalFolder(rmbg));
        string sd = Path.Combine(_root, "sd");
        DiffusionTestModelWriter.Write(new DiffusionTestModelSpec(), sd);
        Assert.False(BackgroundRemover.IsBackgroundRemovalFolder(sd));
        Assert.False(BackgroundRemover.IsBackgroundRemovalFolder(Path.Combine(_root, "missing")));

        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("onnx/model.onnx", Assert.Throws<DiffusionModelException>(() => BackgroundRemover.Load(empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mask_becomes_the_alpha_channel_of_the_unchanged_image()
    {
        using BackgroundRemover remover = BackgroundRemover.Load(Write("rmbg"), new DiffusionSessionOptions { IntraOpThreads = 1 });
        Assert.Equal((BackgroundRemovalTestModelWriter.TinySide, BackgroundRemovalTestModelWriter.TinySide), remover.InputSize);
        RgbImage image = Pattern(80, 48, 0);
        RgbImage cut = remover.RemoveBackground(image);
        Assert.Equal((80, 48, 4), (cut.Width, cut.Height, cut.Channels));
        byte[] alpha = [.. Enumerable.Range(0, 80 * 48).Select(i => cut.Pixels[(i * 4) + 3])];
        for (int i = 0; i < 80 * 48; i++)
        {
            Assert.Equal(image.Pixels.AsSpan(i * 3, 3).ToArray(), cut.Pixels.AsSpan(i * 4, 3).ToArray());
        }

        // A mask, not a constant: it varies over the image, repeats for the same image and follows another.
        Assert.True(alpha.Distinct().Count() > 4, string.Join(",", alpha.Distinct()));
        Assert.Equal(cut.Pixels, remover.RemoveBackground(image).Pixels);
        Assert.NotEqual(cut.Pixels.Where((_, i) => i % 4 == 3), remover.RemoveBackground(Pattern(80, 48, 1)).Pixels.Where((_, i) => i % 4 == 3));
    }

    [Fact]
    public void The_matte_stays_between_0_and_1_and_varies()
    {
        using BackgroundRemover remover = BackgroundRemover.Load(Write("rmbg"), new DiffusionSessionOptions { IntraOpThreads = 1 });
        float[] matte = remover.Matte(Pattern(32, 32, 2), default);
        Assert.Equal(32 * 32, matte.Length);
        Assert.All(matte, v => Assert.InRange(v, 0f, 1f));
        Assert.True(matte.Max() - matte.Min() > 0.05f);
    }
}
