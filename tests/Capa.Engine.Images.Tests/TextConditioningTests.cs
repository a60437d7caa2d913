using Capa.Engine.Images.Encoding;
using Capa.TestModels.Images;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Images.Tests;

/// <summary>One random-weight tiny SDXL folder (seed 0) and its pipeline, shared by a test class.</summary>
public sealed class TinyXlDiffusion : IDisposable
{
    public TinyXlDiffusion()
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-tiny-sdxl-" + Guid.NewGuid().ToString("N"));
        DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { Architecture = DiffusionTestArchitecture.StableDiffusionXl }, Directory);
        Folder = DiffusionModelFolder.Open(Directory);
        Pipeline = StableDiffusionPipeline.Load(Folder, new DiffusionSessionOptions { IntraOpThreads = 1 });
    }

    public string Directory { get; }

    public DiffusionModelFolder Folder { get; }

    public StableDiffusionPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>SDXL's text conditioning (two encoders, pooled embeddings, time ids) and the refusals of folders that do not fit.</summary>
public sealed class TextConditioningTests(TinyXlDiffusion xl) : IClassFixture<TinyXlDiffusion>
{
    private static readonly DiffusionRequest Cat = new() { Prompt = "a cat", Width = 64, Height = 64, Seed = 1 };

    private byte[] Png(DiffusionRequest request) => ImageCodec.Encode(xl.Pipeline.Generate(request).Image, ImageOutputFormat.Png);

    [Fact]
    public void Reads_an_sdxl_folder_from_its_files()
    {
        DiffusionModelFolder folder = xl.Folder;
        Assert.True(folder.IsXl);
        Assert.Equal("StableDiffusionXLPipeline", folder.PipelineClass);
        Assert.Equal(0.13025f, folder.ScalingFactor);
        Assert.Equal(64, folder.NativeSize);
        Assert.Equal("EulerAncestralDiscreteScheduler", folder.Scheduler.ClassName);
        Assert.Equal((1, 4, 0f), (folder.Defaults.Steps, folder.Defaults.HighQualitySteps, folder.Defaults.GuidanceScale));
        Assert.True(folder.ForceZerosForEmptyPrompt);
        Assert.False(folder.RequiresAestheticsScore);

        // The first tokenizer pads with <|endoftext|>, the second with "!", as SDXL's own files say.
        Assert.Equal(folder.Tokenizer.EosId, folder.Tokenizer.PadId);
        Assert.Equal(folder.Tokenizer2!.Inner.TokenToId("!"), folder.Tokenizer2.PadId);
        Assert.NotEqual(folder.Tokenizer.PadId, folder.Tokenizer2.PadId);
        Assert.True(xl.Pipeline.CanEncodeImages);
    }

    [Fact]
    public void The_conditioning_is_both_encoders_penultimate_states_the_pooled_projection_and_the_time_ids()
    {
        var (conditioning, added) = xl.Pipeline.EncodePrompt("a red cat", null, 64, 48);
        Assert.Equal(["text_embeds", "time_ids"], added.Select(a => a.Name));
        Assert.Equal([1L, 77, 32 + 48], conditioning.HiddenShape);
        Assert.Equal([48f, 64, 0, 0, 48, 64], conditioning.Added[1]);

        // Read the same tensors straight from the encoders: hidden_states[-2] of each, text_embeds of the second.
        int[] ids1 = xl.Folder.Tokenizer.EncodePadded("a red cat", out _);
        int[] ids2 = xl.Folder.Tokenizer2!.EncodePadded("a red cat", out _);
        float[] h1 = RunEncoder(Path.Combine(xl.Directory, "text_encoder", "model.onnx"), ids1, "hidden_states.1");
        float[] h2 = RunEncoder(Path.Combine(xl.Directory, "text_encoder_2", "model.onnx"), ids2, "hidden_states.1");
        float[] last2 = RunEncoder(Path.Combine(xl.Directory, "text_encoder_2", "model.onnx"), ids2, "hidden_states.2");
        float[] pooled = RunEncoder(Path.Combine(xl.Directory, "text_encoder_2", "model.onnx"), ids2, "text_embeds");
        Assert.NotEqual(h2, last2);
        for (int t = 0; t < 77; t++)
        {
            Assert.Equal(h1.AsSpan(t * 32, 32).ToArray(), conditioning.Hidden.AsSpan(t * 80, 32).ToArray());
            Assert.Equal(h2.AsSpan(t * 48, 48).ToArray(), conditioning.Hidden.AsSpan((t * 80) + 32, 48).ToArray());
        }

        Assert.Equal(pooled, conditioning.Added[0]);

        // prompt_2 reaches the second encoder only.
        var (other, _) = xl.Pipeline.EncodePrompt("a red cat", "a blue boat", 64, 48);
        static float[] Part(float[] hidden, int offset, int width) => [.. Enumerable.Range(0, 77).SelectMany(t => hidden.AsSpan((t * 80) + offset, width).ToArray())];
        Assert.Equal(Part(conditioning.Hidden, 0, 32), Part(other.Hidden, 0, 32));
        Assert.NotEqual(Part(conditioning.Hidden, 32, 48), Part(other.Hidden, 32, 48));
        Assert.NotEqual(conditioning.Added[0], other.Added[0]);
    }

    [Fact]
    public void An_empty_negative_prompt_is_zeros_and_a_written_one_is_encoded()
    {
        var (zeros, _) = xl.Pipeline.EncodePrompt("a cat", null, 64, 64, "", negative: true);
        Assert.All(zeros.Hidden, v => Assert.Equal(0f, v));
        Assert.All(zeros.Added[0], v => Assert.Equal(0f, v));
        Assert.Equal([64f, 64, 0, 0, 64, 64], zeros.Added[1]);
        var (blurry, _) = xl.Pipeline.EncodePrompt("a cat", null, 64, 64, "blurry", negative: true);
        Assert.Contains(blurry.Hidden, v => v != 0);
        Assert.Equal(xl.Pipeline.EncodePrompt("blurry", null, 64, 64).Conditioning.Hidden, blurry.Hidden);
    }

    [Fact]
    public void The_same_request_gives_the_same_png_bytes_alone_and_concurrently()
    {
        byte[] alone = Png(Cat with { Steps = 2, GuidanceScale = 3 });
        Assert.Equal(alone, Png(Cat with { Steps = 2, GuidanceScale = 3 }));
        byte[][] together = [.. Enumerable.Range(0, 3).AsParallel().Select(_ => Png(Cat with { Steps = 2, GuidanceScale = 3 }))];
        Assert.All(together, bytes => Assert.Equal(alone, bytes));
    }

    [Fact]
    public void The_image_changes_with_each_input()
    {
        byte[] baseline = Png(Cat);
        Assert.NotEqual(baseline, Png(Cat with { Prompt = "a dog" }));
        Assert.NotEqual(baseline, Png(Cat with { Prompt2 = "a dog" }));
        Assert.NotEqual(baseline, Png(Cat with { Seed = 2 }));
        Assert.NotEqual(baseline, Png(Cat with { Steps = 2 }));
        Assert.NotEqual(Png(Cat with { GuidanceScale = 3 }), Png(Cat with { GuidanceScale = 7.5f }));
        Assert.NotEqual(Png(Cat with { GuidanceScale = 5 }), Png(Cat with { GuidanceScale = 5, NegativePrompt = "blurry" }));
        DiffusionResult wide = xl.Pipeline.Generate(Cat with { Width = 1792, Height = 1024 });
        Assert.Equal((1792, 1024), (wide.Image.Width, wide.Image.Height));
        Assert.True(wide.GenerationWidth > wide.GenerationHeight);
    }

    [Fact]
    public void The_tiny_unet_reads_the_text_embeds_and_the_time_ids()
    {
        // A wiring mistake in either input must change the image: run the UNet alone, changing one input at a time.
        using var unet = new InferenceSession(Path.Combine(xl.Directory, "unet", "model.onnx"));
        float[] sample = [.. Enumerable.Range(0, 4 * 8 * 8).Select(i => MathF.Sin(i))];
        float[] hidden = [.. Enumerable.Range(0, 77 * 80).Select(i => MathF.Cos(i * 0.1f))];
        float[] embeds = [.. Enumerable.Range(0, 40).Select(i => i / 40f)];
        float[] Run(float[] textEmbeds, float[] timeIds)
        {
            using OrtValue s = OrtValue.CreateTensorValueFromMemory(sample, [1, 4, 8, 8]);
            using OrtValue t = OrtValue.CreateTensorValueFromMemory(new[] { 999f }, []);
            using OrtValue h = OrtValue.CreateTensorValueFromMemory(hidden, [1, 77, 80]);
            using OrtValue e = OrtValue.CreateTensorValueFromMemory(textEmbeds, [1, 40]);
            using OrtValue i = OrtValue.CreateTensorValueFromMemory(timeIds, [1, 6]);
            using var options = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = unet.Run(
                options, ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"], [s, t, h, e, i], ["out_sample"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        float[] baseline = Run(embeds, [64, 64, 0, 0, 64, 64]);
        Assert.NotEqual(baseline, Run(embeds, [64, 96, 0, 0, 64, 96]));
        Assert.NotEqual(baseline, Run([.. embeds.Select(v => -v)], [64, 64, 0, 0, 64, 64]));
    }

    [Fact]
    public void Folders_that_do_not_fit_are_refused_naming_what_is_missing()
    {
        string root = Path.Combine(Path.GetTempPath(), "capa-sdxl-refusals-" + Guid.NewGuid().ToString("N"));
        try
        {
            string Xl(string name)
            {
                string dir = Path.Combine(root, name);
                DiffusionTestModelWriter.Write(new DiffusionTestModelSpec { Architecture = DiffusionTestArchitecture.StableDiffusionXl }, dir);
                return dir;
            }

            string sd = Path.Combine(root, "sd");
            DiffusionTestModelWriter.Write(new DiffusionTestModelSpec(), sd);

            string noEncoder = Xl("no-encoder-2");
            File.Delete(Path.Combine(noEncoder, "text_encoder_2", "model.onnx"));
            Assert.Contains("text_encoder_2/model.onnx", Assert.Throws<DiffusionModelException>(() => DiffusionModelFolder.Open(noEncoder)).Message, StringComparison.Ordinal);

            string noTokenizer = Xl("no-tokenizer-2");
            File.Delete(Path.Combine(noTokenizer, "tokenizer_2", "vocab.json"));
            Assert.Contains("tokenizer_2/vocab.json", Assert.Throws<DiffusionModelException>(() => DiffusionModelFolder.Open(noTokenizer)).Message, StringComparison.Ordinal);

            // An SDXL UNet in a one-encoder folder.
            File.Copy(Path.Combine(noEncoder, "unet", "model.onnx"), Path.Combine(sd, "unet", "model.onnx"), overwrite: true);
            Assert.Contains("text_encoder_2", Load(sd), StringComparison.Ordinal);

            // A one-encoder UNet in an SDXL folder.
            string sdUnet = Xl("sd-unet");
            string other = Path.Combine(root, "sd-2");
            DiffusionTestModelWriter.Write(new DiffusionTestModelSpec(), other);
            File.Copy(Path.Combine(other, "unet", "model.onnx"), Path.Combine(sdUnet, "unet", "model.onnx"), overwrite: true);
            Assert.Contains("text_embeds", Load(sdUnet), StringComparison.Ordinal);

            // An encoder exported without its hidden states: the penultimate layer cannot be read.
            string noHidden = Xl("no-hidden-states");
            File.Copy(Path.Combine(other, "text_encoder", "model.onnx"), Path.Combine(noHidden, "text_encoder", "model.onnx"), overwrite: true);
            Assert.Contains("hidden_states", Load(noHidden), StringComparison.Ordinal);

            // A refiner-style config (aesthetic score: 5 time ids) against a UNet that reads 6.
            string refiner = Xl("refiner");
            string index = Path.Combine(refiner, "model_index.json");
            File.WriteAllText(index, File.ReadAllText(index).Replace("\"force_zeros_for_empty_prompt\": true", "\"force_zeros_for_empty_prompt\": true, \"requires_aesthetics_score\": true", StringComparison.Ordinal));
            Assert.Contains("requires_aesthetics_score", Load(refiner), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Load(string directory) => Assert.Throws<DiffusionModelException>(() =>
    {
        using var pipeline = StableDiffusionPipeline.Load(DiffusionModelFolder.Open(directory), new DiffusionSessionOptions { IntraOpThreads = 1 });
    }).Message;

    private static float[] RunEncoder(string path, int[] ids, string output)
    {
        using var session = new InferenceSession(path);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var options = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(options, ["input_ids"], [input], [output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}

/// <summary>
/// The SDXL conditioning against an independent reading of diffusers' encode_prompt: transformers.js' CLIPTokenizer and a
/// plain onnxruntime-node run of both encoders over the same tiny folder (tests/oracle/sdxl.mjs).
/// </summary>
public sealed class TextConditioningOracleTests(TinyXlDiffusion xl) : IClassFixture<TinyXlDiffusion>
{
    [SkippableTheory]
    [InlineData("a red cat on a mat", null, 64, 48)]
    [InlineData("A lighthouse, at DUSK!", "oil painting, muted colours", 96, 64)]
    public void Matches_onnxruntime_node_on_the_same_folder(string prompt, string? prompt2, int width, int height)
    {
        Skip.If(Capa.TestModels.Tests.Oracle.UnavailableReason is not null, Capa.TestModels.Tests.Oracle.UnavailableReason);
        string root = Path.Combine(Path.GetTempPath(), "capa-sdxl-oracle-" + Guid.NewGuid().ToString("N"));
        try
        {
            // A copy whose tokenizers also carry tokenizer.json, which transformers.js reads.
            string copy = Path.Combine(root, "model");
            foreach (string file in Directory.EnumerateFiles(xl.Directory, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(copy, Path.GetRelativePath(xl.Directory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            foreach (string tokenizer in new[] { "tokenizer", "tokenizer_2" })
            {
                string dir = Path.Combine(copy, tokenizer);
                File.WriteAllText(Path.Combine(dir, "tokenizer.json"), Capa.Tokenizers.Clip.ClipTokenizer.ToTokenizerJson(
                    File.ReadAllText(Path.Combine(dir, "vocab.json")), File.ReadLines(Path.Combine(dir, "merges.txt"))));
            }

            string request = Path.Combine(root, "request.json");
            string response = Path.Combine(root, "response.json");
            File.WriteAllText(request, new System.Text.Json.Nodes.JsonObject
            {
                ["folder"] = copy,
                ["prompt"] = prompt,
                ["prompt_2"] = prompt2,
                ["width"] = width,
                ["height"] = height,
            }.ToJsonString());
            Capa.TestModels.Tests.Oracle.RunScriptText("sdxl.mjs", Capa.TestModels.Tests.Oracle.DefaultTimeout, [request, response]);
            using var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(response));
            static float[] Floats(System.Text.Json.JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetSingle())];

            var (actual, _) = xl.Pipeline.EncodePrompt(prompt, prompt2, width, height);
            Assert.Equal(expected.RootElement.GetProperty("hidden_shape").EnumerateArray().Select(v => v.GetInt64()), actual.HiddenShape);
            AssertClose(Floats(expected.RootElement.GetProperty("hidden")), actual.Hidden);
            AssertClose(Floats(expected.RootElement.GetProperty("text_embeds")), actual.Added[0]);
            Assert.Equal(Floats(expected.RootElement.GetProperty("time_ids")), actual.Added[1]);
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-5f, $"[{i}]: onnxruntime-node {expected[i]}, Capa {actual[i]}");
        }
    }
}
