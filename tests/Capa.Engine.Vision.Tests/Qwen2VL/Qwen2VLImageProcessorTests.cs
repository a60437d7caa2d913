using Capa.Engine.Text.Generation;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Engine.Vision.Tests.Idefics3;
using Capa.Media.Images;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

public sealed class Qwen2VLImageProcessorTests
{
    /// <summary>Qwen/Qwen2-VL-2B-Instruct's preprocessor_config.json.</summary>
    internal const string Qwen2VL2BPreprocessor = """
        {
          "min_pixels": 3136,
          "max_pixels": 12845056,
          "patch_size": 14,
          "temporal_patch_size": 2,
          "merge_size": 2,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "image_processor_type": "Qwen2VLImageProcessor",
          "processor_class": "Qwen2VLProcessor"
        }
        """;

    // A small budget (256 tokens at most) in the newer size form, to exercise the downscale path on modest images.
    private const string SmallBudgetPreprocessor = """
        {
          "size": {"shortest_edge": 6272, "longest_edge": 200704},
          "patch_size": 14,
          "temporal_patch_size": 2,
          "merge_size": 2,
          "resample": 3,
          "do_rescale": true,
          "rescale_factor": 0.00392156862745098,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711]
        }
        """;

    [SkippableTheory]
    [InlineData(640, 480)]
    [InlineData(70, 42)]
    [InlineData(10, 10)]
    [InlineData(33, 301)]
    [InlineData(1001, 257)]
    public void Qwen2VL_2B_settings_match_the_python_reference(int width, int height)
    {
        var processor = new Qwen2VLImageProcessor(Qwen2VLProcessorConfig.Parse(Qwen2VL2BPreprocessor));
        var image = TestImages.Random(width, height, seed: (5 * width) + height);

        var actual = processor.Process(image);

        AssertMatchesReference(actual, image, Qwen2VL2BPreprocessor);
        Assert.Equal(actual.ImageTokens, processor.CountImageTokens(width, height));
    }

    [SkippableTheory]
    [InlineData(1920, 1080)]
    [InlineData(600, 2000)]
    [InlineData(56, 56)]
    public void A_small_pixel_budget_matches_the_python_reference(int width, int height)
    {
        var processor = new Qwen2VLImageProcessor(Qwen2VLProcessorConfig.Parse(SmallBudgetPreprocessor));
        var image = TestImages.Random(width, height, seed: width ^ height);

        var actual = processor.Process(image);

        Assert.True(actual.ResizedWidth * actual.ResizedHeight is >= 6272 and <= 200704);
        AssertMatchesReference(actual, image, SmallBudgetPreprocessor);
    }

    [SkippableFact]
    public void A_lowered_budget_is_the_reference_run_with_that_max_pixels()
    {
        var processor = new Qwen2VLImageProcessor(Qwen2VLProcessorConfig.Parse(Qwen2VL2BPreprocessor));
        var image = TestImages.Random(1024, 768, seed: 11);

        var low = processor.Process(image, Qwen2VLImageProcessor.LowDetailMaxPixels);

        Assert.True(low.ResizedWidth * low.ResizedHeight <= Qwen2VLImageProcessor.LowDetailMaxPixels);
        var json = Qwen2VL2BPreprocessor.Replace("12845056", "262144", StringComparison.Ordinal);
        AssertMatchesReference(low, image, json);
    }

    [Theory]
    [InlineData(480, 640, 476, 644)]
    [InlineData(42, 70, 56, 56)] // 70 / 28 = 2.5 rounds to even, as Python's round does
    [InlineData(98, 98, 112, 112)] // 3.5 rounds to 4
    [InlineData(10, 10, 56, 56)] // below min_pixels: scaled up and rounded up
    [InlineData(4000, 3000, 3584, 2688)] // above max_pixels: scaled down and rounded down
    [InlineData(20, 4000, 28, 4004)]
    public void Smart_resize_follows_the_reference_formula(int height, int width, int expectedHeight, int expectedWidth)
    {
        var config = Qwen2VLProcessorConfig.Parse(Qwen2VL2BPreprocessor);
        Assert.Equal(
            (expectedHeight, expectedWidth),
            Qwen2VLImageProcessor.SmartResize(height, width, config.Factor, config.MinPixels, 12845056 / 4 * 3));
    }

    [Fact]
    public void Extreme_aspect_ratios_are_refused_as_invalid_images()
    {
        var processor = new Qwen2VLImageProcessor(new Qwen2VLProcessorConfig());
        var error = Assert.Throws<GenerationRequestException>(() => processor.CountImageTokens(4020, 20));
        Assert.Equal("invalid_image", error.Code);
        // Exactly 200 is allowed: 4004 × 28 → 143 × 2 patches → 143 merged tokens.
        Assert.Equal(143, processor.CountImageTokens(4000, 20));
    }

    [Fact]
    public void Rows_hold_1176_values_ordered_channel_frame_y_x_in_merge_blocks()
    {
        // A 56 × 28 image (no resize: multiples of 28 within a budget from one block up) with distinct pixels.
        var config = new Qwen2VLProcessorConfig { DoNormalize = false, DoRescale = false, MinPixels = 28 * 28 };
        var processor = new Qwen2VLImageProcessor(config);
        var pixels = new byte[56 * 28 * 3];
        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 56; x++)
            {
                pixels[((y * 56) + x) * 3] = (byte)x;
                pixels[(((y * 56) + x) * 3) + 1] = (byte)y;
                pixels[(((y * 56) + x) * 3) + 2] = (byte)(x + y);
            }
        }

        var inputs = processor.Process(new RgbImage(56, 28, pixels));

        Assert.Equal((1, 2, 4, 1176, 2), (inputs.GridT, inputs.GridH, inputs.GridW, inputs.PatchWidth, inputs.ImageTokens));
        Assert.Equal(8 * 1176, inputs.PixelValues.Length);

        // Row 5 is merge block (0, 1), patch (mh 0, mw 1): x from 42, y from 0. Value (c 1, frame 1, y 3, x 2).
        float At(int row, int c, int f, int y, int x) => inputs.PixelValues[(row * 1176) + (c * 392) + (f * 196) + (y * 14) + x];
        Assert.Equal(42 + 2, At(5, 0, 0, 3, 2));
        Assert.Equal(3, At(5, 1, 1, 3, 2));
        // Row 2 is merge block (0, 0), patch (mh 1, mw 0): y from 14, x from 0.
        Assert.Equal(14 + 5 + 7, At(2, 2, 0, 5, 7));
        Assert.Equal(At(2, 2, 0, 5, 7), At(2, 2, 1, 5, 7));
    }

    [Fact]
    public void Prompt_expansion_repeats_the_image_pad_token()
    {
        Assert.Equal("<|image_pad|><|image_pad|><|image_pad|>", Qwen2VLImageProcessor.ExpandPrompt(3));
        Assert.Equal("", Qwen2VLImageProcessor.ExpandPrompt(0));
    }

    [Fact]
    public void Settings_read_both_budget_forms_and_refuse_bad_values()
    {
        var size = Qwen2VLProcessorConfig.Parse(SmallBudgetPreprocessor);
        Assert.Equal((6272L, 200704L, 28, 1176), (size.MinPixels, size.MaxPixels, size.Factor, size.PatchWidth));
        var defaults = Qwen2VLProcessorConfig.Parse("{}");
        Assert.Equal((3136L, 1003520L, ResampleFilter.Bicubic), (defaults.MinPixels, defaults.MaxPixels, defaults.Resample));
        Assert.Equal(Qwen2VLProcessorConfig.ClipMean, defaults.ImageMean);

        Assert.Throws<ModelFolderException>(() => Qwen2VLProcessorConfig.Parse("""{"min_pixels": 100, "max_pixels": 50}"""));
        Assert.Throws<ModelFolderException>(() => Qwen2VLProcessorConfig.Parse("""{"merge_size": 0}"""));
        Assert.Throws<ModelFolderException>(() => Qwen2VLProcessorConfig.Parse("""{"resample": 9}"""));
        Assert.Throws<ModelFolderException>(() => Qwen2VLProcessorConfig.FromFolder(Path.GetTempPath() + "/capa-no-such-folder"));
    }

    private static void AssertMatchesReference(Qwen2VLImageInputs actual, RgbImage image, string preprocessorJson)
    {
        Skip.If(Qwen2VLReference.MissingReason is not null, Qwen2VLReference.MissingReason);
        var expected = Qwen2VLReference.Run(image, preprocessorJson, pixels: true);

        Assert.Equal((expected.ResizedWidth, expected.ResizedHeight), (actual.ResizedWidth, actual.ResizedHeight));
        Assert.Equal((expected.GridT, expected.GridH, expected.GridW), (actual.GridT, actual.GridH, actual.GridW));
        Assert.Equal(expected.ImageTokens, actual.ImageTokens);
        Assert.Equal(expected.Pixels!.Length, actual.PixelValues.Length);

        var worst = 0.0;
        var worstAt = -1;
        for (var i = 0; i < expected.Pixels.Length; i++)
        {
            var d = Math.Abs((double)expected.Pixels[i] - actual.PixelValues[i]);
            if (d > worst)
            {
                worst = d;
                worstAt = i;
            }
        }

        Assert.True(worst == 0, $"pixel value {worstAt} differs by {worst}: reference {(worstAt >= 0 ? expected.Pixels[worstAt] : 0)}, Capa {(worstAt >= 0 ? actual.PixelValues[worstAt] : 0)}.");
    }
}
