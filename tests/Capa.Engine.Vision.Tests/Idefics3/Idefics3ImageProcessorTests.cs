using System.Text.Json.Nodes;
using Capa.Engine.Vision.Idefics3;
using Capa.Media.Images;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Tests.Idefics3;

public sealed class Idefics3ImageProcessorTests
{
    /// <summary>HuggingFaceTB/SmolVLM-256M-Instruct's preprocessor_config.json.</summary>
    internal const string SmolVlm256MPreprocessor = """
        {
          "do_convert_rgb": true,
          "do_image_splitting": true,
          "do_normalize": true,
          "do_pad": true,
          "do_rescale": true,
          "do_resize": true,
          "image_mean": [0.5, 0.5, 0.5],
          "image_processor_type": "Idefics3ImageProcessor",
          "image_std": [0.5, 0.5, 0.5],
          "max_image_size": {"longest_edge": 512},
          "processor_class": "Idefics3Processor",
          "resample": 1,
          "rescale_factor": 0.00392156862745098,
          "size": {"longest_edge": 2048}
        }
        """;

    internal const string SmolVlm256MProcessor = """{"image_seq_len": 64, "processor_class": "Idefics3Processor"}""";

    // A smaller variant to keep large inputs fast and to exercise the other settings: bicubic, CLIP mean/std, 256-px tiles.
    private const string SmallPreprocessor = """
        {
          "do_image_splitting": true,
          "do_normalize": true,
          "do_rescale": true,
          "do_resize": true,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "max_image_size": {"longest_edge": 256},
          "resample": 3,
          "rescale_factor": 0.00392156862745098,
          "size": {"longest_edge": 768}
        }
        """;

    private const int SmallSeqLen = 16;

    [SkippableTheory]
    [InlineData(224, 224, true, 17)]
    [InlineData(300, 1000, true, 9)]
    [InlineData(50, 50, true, 17)]
    [InlineData(50, 50, false, 1)]
    [InlineData(1000, 300, false, 1)]
    public void SmolVlm_256M_settings_match_the_python_reference(int width, int height, bool split, int tiles)
    {
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(SmolVlm256MPreprocessor) with { ImageSeqLen = 64 });
        var image = TestImages.Random(width, height, seed: width + (3 * height));

        var actual = processor.Process(image, split);

        Assert.Equal(tiles, actual.Tiles);
        AssertMatchesReference(actual, image, SmolVlm256MPreprocessor, 64, split);
    }

    [SkippableTheory]
    [InlineData(1537, 513, true, 4)]
    [InlineData(2500, 1300, true, 7)]
    [InlineData(2500, 1300, false, 1)]
    [InlineData(97, 31, true, 4)]
    [InlineData(31, 97, true, 4)]
    [InlineData(256, 256, true, 10)]
    public void Other_settings_match_the_python_reference(int width, int height, bool split, int tiles)
    {
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(SmallPreprocessor) with { ImageSeqLen = SmallSeqLen });
        var image = TestImages.Random(width, height, seed: (7 * width) + height);

        var actual = processor.Process(image, split);

        Assert.Equal(tiles, actual.Tiles);
        AssertMatchesReference(actual, image, SmallPreprocessor, SmallSeqLen, split);
    }

    [SkippableFact]
    public void Settings_without_splitting_or_normalising_match_the_python_reference()
    {
        var json = """
            {"do_image_splitting": false, "do_normalize": false, "do_rescale": true, "rescale_factor": 0.5,
             "max_image_size": {"longest_edge": 128}, "size": {"height": 77, "width": 301}, "resample": 2}
            """;
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(json) with { ImageSeqLen = 5 });
        var image = TestImages.Random(640, 203, seed: 3);

        var actual = processor.Process(image, split: true);

        Assert.Equal((1, 0, 0), (actual.Tiles, actual.Rows, actual.Cols));
        AssertMatchesReference(actual, image, json, 5, split: true);
    }

    [SkippableTheory]
    [InlineData(10, 3)]
    [InlineData(3, 10)]
    [InlineData(4097, 5)]
    public void The_4096_cap_and_the_tile_grid_match_the_python_reference(int width, int height)
    {
        // A longest edge over 4096 is capped after the aspect-preserving resize; sizes only, the pixels would be huge.
        var json = SmolVlm256MPreprocessor.Replace("\"longest_edge\": 2048", "\"longest_edge\": 5000", StringComparison.Ordinal);
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(json) with { ImageSeqLen = 64 });
        Skip.If(Idefics3Reference.MissingReason is not null, Idefics3Reference.MissingReason);

        var expected = Idefics3Reference.Run(TestImages.Random(width, height, seed: 1), json, 64, split: true, pixels: false);
        var plan = processor.Plan(width, height, split: true);

        Assert.Equal((expected.ResizedWidth, expected.ResizedHeight), (plan.ResizedWidth, plan.ResizedHeight));
        Assert.True(Math.Max(plan.ResizedWidth, plan.ResizedHeight) <= 4096);
        Assert.Equal((expected.Rows, expected.Cols, expected.Tiles), (plan.Rows, plan.Cols, plan.Tiles));
        Assert.Equal(expected.Prompt, processor.ExpandPrompt(plan.Rows, plan.Cols));
        Assert.Equal(expected.Tiles * 64, processor.CountImageTokens(width, height, split: true));
    }

    [SkippableTheory]
    [InlineData(9, 1536, 3, 3)]
    [InlineData(4, 1024, 2, 2)]
    [InlineData(3, 512, 0, 0)]
    [InlineData(0, 512, 0, 0)]
    public void A_tile_cap_is_the_reference_with_a_smaller_longest_edge(int cap, int longestEdge, int rows, int cols)
    {
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(SmolVlm256MPreprocessor) with { ImageSeqLen = 64 });
        var image = TestImages.Random(224, 224, seed: 42);

        var actual = processor.Process(image, split: true, maxTiles: cap);

        Assert.Equal((rows, cols), (actual.Rows, actual.Cols));
        Assert.True(actual.Rows * actual.Cols <= cap);
        var json = SmolVlm256MPreprocessor.Replace("\"longest_edge\": 2048", $"\"longest_edge\": {longestEdge}", StringComparison.Ordinal);
        AssertMatchesReference(actual, image, json, 64, split: true);
    }

    [Fact]
    public void Prompt_expansion_is_written_row_by_row_then_the_global_image()
    {
        var processor = new Idefics3ImageProcessor(new Idefics3ProcessorConfig { ImageSeqLen = 2 });
        const string Fake = "<fake_token_around_image>";
        Assert.Equal(
            $"{Fake}<row_1_col_1><image><image>{Fake}<row_1_col_2><image><image>\n"
            + $"{Fake}<row_2_col_1><image><image>{Fake}<row_2_col_2><image><image>\n"
            + $"\n{Fake}<global-img><image><image>{Fake}",
            processor.ExpandPrompt(2, 2));
        Assert.Equal($"{Fake}<global-img><image><image>{Fake}", processor.ExpandPrompt(0, 0));
    }

    [Fact]
    public void Low_detail_is_one_global_tile_of_64_tokens_and_the_mask_covers_every_pixel()
    {
        var processor = new Idefics3ImageProcessor(Idefics3ProcessorConfig.Parse(SmolVlm256MPreprocessor) with { ImageSeqLen = 64 });
        var white = new RgbImage(40, 30, Enumerable.Repeat((byte)255, 40 * 30 * 3).ToArray());

        var low = processor.Process(white, split: false);

        Assert.Equal((1, 512, 0, 0), (low.Tiles, low.TileSize, low.Rows, low.Cols));
        Assert.Equal(3 * 512 * 512, low.PixelValues.Length);
        Assert.Equal(512 * 512, low.PixelAttentionMask.Length);
        Assert.All(low.PixelAttentionMask, Assert.True);

        // White is 255 → 1.0 after rescale → (1 - 0.5) / 0.5 = 1.
        Assert.All(low.PixelValues, v => Assert.Equal(1f, v));
        Assert.Equal(64, processor.CountImageTokens(40, 30, split: false));
        Assert.Equal(64, low.PromptText.Split("<image>").Length - 1);
        // 40 × 30 → 2048 × 1536 → 4 × 3 tiles plus the global image.
        Assert.Equal(13 * 64, processor.CountImageTokens(40, 30, split: true));
    }

    [Fact]
    public void FromFolder_reads_the_model_folder_settings()
    {
        using var folder = new TempFolder();
        folder.Write("preprocessor_config.json", SmolVlm256MPreprocessor);
        folder.Write("processor_config.json", SmolVlm256MProcessor);
        folder.Write("tokenizer_config.json", """
            {"extra_special_tokens": {"fake_image_token": "<fake_token_around_image>", "global_image_token": "<global-img>",
             "image_token": "<image>", "end_of_utterance_token": "<end_of_utterance>"}}
            """);

        var processor = Idefics3ImageProcessor.FromFolder(folder.Path);

        var config = processor.Config;
        Assert.Equal(2048, config.LongestEdge);
        Assert.Equal(512, config.MaxImageSize);
        Assert.Equal(64, config.ImageSeqLen);
        Assert.Equal(ResampleFilter.Lanczos, config.Resample);
        Assert.True(config.DoImageSplitting && config.DoResize && config.DoRescale && config.DoNormalize);
        Assert.Equal(1.0 / 255, config.RescaleFactor, 1e-15);
        Assert.Equal([0.5, 0.5, 0.5], config.ImageMean);
        Assert.Equal("<global-img>", config.GlobalImageToken);
        Assert.Equal(17, processor.Plan(224, 224, split: true).Tiles);
    }

    [Fact]
    public void FromFolder_derives_image_seq_len_from_the_model_config_and_names_what_is_missing()
    {
        using var folder = new TempFolder();
        var missing = Assert.Throws<ModelFolderException>(() => Idefics3ImageProcessor.FromFolder(folder.Path));
        Assert.Contains("preprocessor_config.json", missing.Message, StringComparison.Ordinal);

        folder.Write("preprocessor_config.json", SmolVlm256MPreprocessor);
        var noSeqLen = Assert.Throws<ModelFolderException>(() => Idefics3ImageProcessor.FromFolder(folder.Path));
        Assert.Contains("image_seq_len", noSeqLen.Message, StringComparison.Ordinal);

        // SmolVLM-256M: 512-px images, 16-px patches, pixel shuffle by 4 → (32 × 32) / 16 = 64.
        folder.Write("config.json", """{"scale_factor": 4, "vision_config": {"image_size": 512, "patch_size": 16}}""");
        Assert.Equal(64, Idefics3ImageProcessor.FromFolder(folder.Path).ImageSeqLen);

        folder.Write("preprocessor_config.json", """{"resample": 9}""");
        var badFilter = Assert.Throws<ModelFolderException>(() => Idefics3ImageProcessor.FromFolder(folder.Path));
        Assert.Contains("resample 9", badFilter.Message, StringComparison.Ordinal);

        folder.Write("preprocessor_config.json", "{ not json");
        Assert.Throws<ModelFolderException>(() => Idefics3ImageProcessor.FromFolder(folder.Path));
    }

    [Fact]
    public void Absent_keys_take_the_python_defaults()
    {
        var config = Idefics3ProcessorConfig.Parse("{}");
        Assert.Equal((1456, 364, ResampleFilter.Lanczos), (config.LongestEdge, config.MaxImageSize, config.Resample));
        Assert.Equal([0.5, 0.5, 0.5], config.ImageStd);
        var scalar = Idefics3ProcessorConfig.Parse("""{"image_mean": 0.25, "image_std": [0.75]}""");
        Assert.Equal([0.25, 0.25, 0.25], scalar.ImageMean);
        Assert.Equal([0.75, 0.75, 0.75], scalar.ImageStd);
    }

    private static void AssertMatchesReference(Idefics3ImageInputs actual, RgbImage image, string preprocessorJson, int seqLen, bool split)
    {
        Skip.If(Idefics3Reference.MissingReason is not null, Idefics3Reference.MissingReason);
        var expected = Idefics3Reference.Run(image, preprocessorJson, seqLen, split, pixels: true);

        Assert.Equal((expected.Rows, expected.Cols, expected.Tiles, expected.TileSize), (actual.Rows, actual.Cols, actual.Tiles, actual.TileSize));
        Assert.Equal(expected.Prompt, actual.PromptText);
        Assert.Equal(expected.Pixels!.Length, actual.PixelValues.Length);
        Assert.Equal(expected.Mask!.Select(m => m != 0), actual.PixelAttentionMask);

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

        Assert.True(worst <= 1e-6, $"pixel value {worstAt} differs by {worst}: reference {(worstAt >= 0 ? expected.Pixels[worstAt] : 0)}, Capa {(worstAt >= 0 ? actual.PixelValues[worstAt] : 0)}.");
    }

    private sealed class TempFolder : IDisposable
    {
        public TempFolder() => Path = Directory.CreateTempSubdirectory("capa-idefics3-folder-").FullName;

        public string Path { get; }

        public void Write(string name, string text) => File.WriteAllText(System.IO.Path.Combine(Path, name), text);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Random test images with flat runs and hard edges mixed in.</summary>
internal static class TestImages
{
    public static RgbImage Random(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new System.Random(seed).NextBytes(pixels);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if ((x / 4) % 3 == 1)
                {
                    var i = ((y * width) + x) * 3;
                    pixels[i] = (byte)((y / 3) % 2 * 255);
                    pixels[i + 1] = 200;
                    pixels[i + 2] = (byte)(x + y);
                }
            }
        }

        return new RgbImage(width, height, pixels);
    }
}
