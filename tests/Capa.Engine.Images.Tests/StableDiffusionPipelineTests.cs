using Capa.Engine.Images.Encoding;
using Capa.TestModels.Images;

namespace Capa.Engine.Images.Tests;

public sealed class StableDiffusionPipelineTests(TinyDiffusion tiny) : IClassFixture<TinyDiffusion>
{
    private static readonly DiffusionRequest Cat = new() { Prompt = "a cat", Width = 64, Height = 64, Seed = 1 };

    private byte[] Png(DiffusionRequest request) => ImageCodec.Encode(tiny.Pipeline.Generate(request).Image, ImageOutputFormat.Png);

    [Fact]
    public void Reads_the_folder_from_its_files()
    {
        DiffusionModelFolder folder = tiny.Folder;
        Assert.Equal(0.18215f, folder.ScalingFactor);
        Assert.Equal(8, folder.VaeScaleFactor);
        Assert.Equal(64, folder.NativeSize);
        Assert.Equal("EulerDiscreteScheduler", folder.Scheduler.ClassName);
        Assert.Equal((1, 4, 0f), (folder.Defaults.Steps, folder.Defaults.HighQualitySteps, folder.Defaults.GuidanceScale));
        Assert.Equal(folder.Tokenizer.Inner.TokenToId("!"), folder.Tokenizer.PadId);
        Assert.Equal("OnnxStableDiffusionPipeline", folder.PipelineClass);
        Assert.True(tiny.Pipeline.CanEncodeImages);
    }

    [Fact]
    public void The_same_request_gives_the_same_png_bytes()
    {
        Assert.Equal(Png(Cat), Png(Cat));
        Assert.Equal(Png(Cat with { Steps = 3, GuidanceScale = 5 }), Png(Cat with { Steps = 3, GuidanceScale = 5 }));
    }

    [Fact]
    public async Task Concurrent_generations_give_the_bytes_they_give_alone()
    {
        byte[] alone = Png(Cat with { Steps = 2 });
        byte[][] together = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Png(Cat with { Steps = 2 }))));
        Assert.All(together, bytes => Assert.Equal(alone, bytes));
    }

    [Fact]
    public void The_image_changes_with_each_input()
    {
        byte[] baseline = Png(Cat);
        Assert.NotEqual(baseline, Png(Cat with { Prompt = "a dog" }));
        Assert.NotEqual(baseline, Png(Cat with { Seed = 2 }));
        Assert.NotEqual(baseline, Png(Cat with { Steps = 2 }));
        Assert.NotEqual(Png(Cat with { GuidanceScale = 3 }), Png(Cat with { GuidanceScale = 7.5f }));
        Assert.NotEqual(Png(Cat with { GuidanceScale = 7.5f }), Png(Cat with { GuidanceScale = 7.5f, NegativePrompt = "blurry" }));
        Assert.NotEqual(baseline, Png(Cat with { HighQuality = true }));
    }

    [Fact]
    public void The_result_reports_time_in_each_network()
    {
        DiffusionResult result = tiny.Pipeline.Generate(Cat with { Steps = 2, Previews = 1 });
        Assert.True(result.Timings.TextEncoder > TimeSpan.Zero);
        Assert.True(result.Timings.Unet > TimeSpan.Zero);
        Assert.True(result.Timings.Vae > TimeSpan.Zero);
    }

    [Fact]
    public void Sizes_are_exact_and_follow_the_aspect_ratio()
    {
        DiffusionResult wide = tiny.Pipeline.Generate(Cat with { Width = 1792, Height = 1024 });
        Assert.Equal((1792, 1024), (wide.Image.Width, wide.Image.Height));
        Assert.True(wide.GenerationWidth > wide.GenerationHeight);
        Assert.Equal(0, wide.GenerationWidth % 8);
        DiffusionResult square = tiny.Pipeline.Generate(Cat with { Width = 256, Height = 256 });
        Assert.Equal((64, 64), (square.GenerationWidth, square.GenerationHeight));
        Assert.Equal(256 * 256 * 3, square.Image.Pixels.Length);
    }

    [Fact]
    public void A_legacy_int64_timestep_export_gives_the_same_image()
    {
        // The same weights with the timestep declared int64 [batch]: integer timesteps make both graphs compute the same.
        string directory = Path.Combine(Path.GetTempPath(), "capa-tiny-sd-int64-" + Guid.NewGuid().ToString("N"));
        try
        {
            DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { Int64Timestep = true }, directory);
            using var pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(directory), new DiffusionSessionOptions { IntraOpThreads = 1 });
            DiffusionRequest request = Cat with { Steps = 4, GuidanceScale = 4 };
            Assert.Equal(tiny.Pipeline.Generate(request).Image.Pixels, pipeline.Generate(request).Image.Pixels);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("""{"_class_name":"EulerAncestralDiscreteScheduler","timestep_spacing":"trailing","steps_offset":1}""")]
    [InlineData("""{"_class_name":"DDIMScheduler","steps_offset":1,"clip_sample":false,"set_alpha_to_one":false}""")]
    [InlineData("""{"_class_name":"LCMScheduler","original_inference_steps":50}""")]
    public void Every_scheduler_runs_end_to_end_reproducibly(string schedulerConfig)
    {
        string directory = Path.Combine(Path.GetTempPath(), "capa-tiny-sd-s-" + Guid.NewGuid().ToString("N"));
        try
        {
            DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { SchedulerConfigJson = schedulerConfig }, directory);
            using var pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(directory), new DiffusionSessionOptions { IntraOpThreads = 1 });
            DiffusionRequest request = Cat with { Steps = 3 };
            byte[] first = pipeline.Generate(request).Image.Pixels;
            Assert.Equal(first, pipeline.Generate(request).Image.Pixels);
            Assert.NotEqual(first, pipeline.Generate(request with { Seed = 9 }).Image.Pixels);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Previews_arrive_between_steps_and_progress_counts_every_step()
    {
        var events = new List<DiffusionProgress>();
        tiny.Pipeline.Generate(Cat with { Steps = 4, Previews = 2 }, events.Add);
        Assert.Equal([1, 2, 3, 4], events.Select(e => e.Step));
        Assert.All(events, e => Assert.Equal(4, e.TotalSteps));
        var previews = events.Where(e => e.Preview is not null).ToList();
        Assert.Equal([0, 1], previews.Select(p => p.PreviewIndex));
        Assert.All(previews, p => Assert.Equal((64, 64), (p.Preview!.Width, p.Preview.Height)));
        Assert.Equal([1], StableDiffusionPipeline.PreviewSteps(3, 2));
        Assert.Equal([2, 4, 6], StableDiffusionPipeline.PreviewSteps(3, 8));
        Assert.Empty(StableDiffusionPipeline.PreviewSteps(3, 1));
    }

    [Fact]
    public void Cancellation_stops_between_steps()
    {
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => tiny.Pipeline.Generate(Cat with { Steps = 4 }, p =>
        {
            if (p.Step == 1)
            {
                cts.Cancel();
            }
        }, cts.Token));
    }

    [Fact]
    public void Img2img_and_inpainting_start_from_the_image()
    {
        RgbImage source = tiny.Pipeline.Generate(Cat with { Seed = 5 }).Image;
        var edit = Cat with { Prompt = "a hat", InitImage = source, Steps = 4, Strength = 0.5 };
        byte[] edited = tiny.Pipeline.Generate(edit).Image.Pixels;
        Assert.Equal(edited, tiny.Pipeline.Generate(edit).Image.Pixels);
        Assert.NotEqual(tiny.Pipeline.Generate(edit with { InitImage = null }).Image.Pixels, edited);
        Assert.NotEqual(edited, tiny.Pipeline.Generate(edit with { InitImage = tiny.Pipeline.Generate(Cat with { Seed = 6 }).Image }).Image.Pixels);

        // A mask that keeps everything reproduces the encoded original; one that repaints everything does not.
        var keepAll = new RgbImage(64, 64, 4, [.. Enumerable.Repeat((byte)255, 64 * 64 * 4)]);
        var repaintAll = new RgbImage(64, 64, 4, new byte[64 * 64 * 4]);
        byte[] kept = tiny.Pipeline.Generate(edit with { Mask = keepAll }).Image.Pixels;
        byte[] repainted = tiny.Pipeline.Generate(edit with { Mask = repaintAll }).Image.Pixels;
        Assert.NotEqual(kept, repainted);
        Assert.Equal(kept, tiny.Pipeline.Generate(edit with { Mask = keepAll, Prompt = "anything else", Seed = 77 }).Image.Pixels);
    }

    [Fact]
    public void An_inpainting_unet_reads_the_mask_and_the_masked_image()
    {
        string directory = Path.Combine(Path.GetTempPath(), "capa-tiny-sd-inpaint-" + Guid.NewGuid().ToString("N"));
        try
        {
            DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { Inpainting = true }, directory);
            using var pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(directory), new DiffusionSessionOptions { IntraOpThreads = 1 });
            Assert.True(pipeline.IsInpainting);
            Assert.False(tiny.Pipeline.IsInpainting);

            RgbImage source = tiny.Pipeline.Generate(Cat with { Seed = 5 }).Image;
            RgbImage other = tiny.Pipeline.Generate(Cat with { Seed = 6 }).Image;

            // The left half is repainted (transparent), the right half kept.
            var half = new byte[64 * 64 * 4];
            for (int i = 0; i < 64 * 64; i++)
            {
                half[(i * 4) + 3] = (byte)(i % 64 < 32 ? 0 : 255);
            }

            var leftHalf = new RgbImage(64, 64, 4, half);
            var repaintAll = new RgbImage(64, 64, 4, new byte[64 * 64 * 4]);
            var edit = Cat with { Prompt = "a hat", InitImage = source, Mask = leftHalf, Steps = 3, GuidanceScale = 3 };
            byte[] edited = pipeline.Generate(edit).Image.Pixels;
            Assert.Equal(edited, pipeline.Generate(edit).Image.Pixels);

            // The kept pixels reach the UNet through the masked image: another source changes the result...
            Assert.NotEqual(edited, pipeline.Generate(edit with { InitImage = other }).Image.Pixels);

            // ...unless the mask repaints everything, when nothing of the source is left to read.
            Assert.Equal(
                pipeline.Generate(edit with { Mask = repaintAll }).Image.Pixels,
                pipeline.Generate(edit with { Mask = repaintAll, InitImage = other }).Image.Pixels);

            // The mask channel itself is read, and the guidance and prompt still count.
            Assert.NotEqual(edited, pipeline.Generate(edit with { Mask = repaintAll }).Image.Pixels);
            Assert.NotEqual(edited, pipeline.Generate(edit with { Prompt = "a boat" }).Image.Pixels);

            // Text to image and image to image (no mask) run on it too.
            Assert.Equal(64 * 64 * 3, pipeline.Generate(Cat with { Steps = 2 }).Image.Pixels.Length);
            Assert.NotEqual(
                pipeline.Generate(Cat with { InitImage = source, Strength = 0.5, Steps = 4 }).Image.Pixels,
                pipeline.Generate(Cat with { InitImage = other, Strength = 0.5, Steps = 4 }).Image.Pixels);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Prompt_tokens_are_counted_and_truncated_to_the_encoder()
    {
        Assert.Equal(tiny.Folder.Tokenizer.EncodeText("a cat").Length, tiny.Pipeline.CountPromptTokens("a cat"));
        Assert.Equal(75, tiny.Pipeline.CountPromptTokens(string.Join(' ', Enumerable.Repeat("cat", 200))));
    }

    [Fact]
    public void A_folder_without_a_unet_is_refused_with_a_clear_message()
    {
        string directory = Path.Combine(Path.GetTempPath(), "capa-not-sd-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var error = Assert.Throws<DiffusionModelException>(() => DiffusionModelFolder.Open(directory));
            Assert.Contains("text_encoder/model.onnx", error.Message, StringComparison.Ordinal);
            Assert.False(DiffusionModelFolder.IsDiffusionFolder(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
