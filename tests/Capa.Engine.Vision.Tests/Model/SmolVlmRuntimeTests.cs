using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Tests.Model;

public sealed class SmolVlmRuntimeTests(TinySmolVlm tiny) : IClassFixture<TinySmolVlm>
{
    private const string Question = "What is shown here?";

    [Fact]
    public void The_cached_decode_loop_equals_recomputing_the_whole_sequence()
    {
        LocalVisionModel model = tiny.Model;
        VisionImageInput image = TinySmolVlm.Image(5, salt: 11);
        var ids = new List<int>(tiny.Prompt(Question, 2, 2));
        using IDecoderSequence cached = model.Decoder.CreateSequence();
        float[] logits = cached.ForwardEmbeddings(model.BuildPromptEmbeddings(ids, [image])).ToArray();
        for (int step = 0; step < 8; step++)
        {
            // Full recompute: a fresh cache fed the prompt's embeddings (features scattered again) and every token so far.
            using IDecoderSequence fresh = model.Decoder.CreateSequence();
            float[] full = fresh.ForwardEmbeddings(model.BuildPromptEmbeddings(ids, [image])).ToArray();
            Assert.Equal(full.Length, logits.Length);
            for (int i = 0; i < full.Length; i++)
            {
                Assert.True(MathF.Abs(full[i] - logits[i]) < 1e-3f, $"step {step}, logit {i}: cached {logits[i]}, recomputed {full[i]}");
            }

            int next = ArgMax(logits);
            Assert.Equal(ArgMax(full), next);
            ids.Add(next);
            logits = cached.Forward([next]).ToArray();
        }

        Assert.Equal(ids.Count, cached.Length);
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    [Fact]
    public void The_image_changes_the_prediction()
    {
        LocalVisionModel model = tiny.Model;
        IReadOnlyList<int> prompt = tiny.Prompt(Question, 0, 0);
        float[] Logits(VisionImageInput image)
        {
            using IDecoderSequence sequence = model.Decoder.CreateSequence();
            return sequence.ForwardEmbeddings(model.BuildPromptEmbeddings(prompt, [image])).ToArray();
        }

        float[] a = Logits(TinySmolVlm.Image(1, salt: 1));
        float[] b = Logits(TinySmolVlm.Image(1, salt: 2));
        Assert.True(a.Zip(b).Max(p => MathF.Abs(p.First - p.Second)) > 1e-2f, "Different pixels gave the same logits: the features do not reach the decoder.");
        Assert.Equal(a, Logits(TinySmolVlm.Image(1, salt: 1)));
    }

    [Fact]
    public async Task Seeded_sampling_is_reproducible_and_the_feature_cache_encodes_an_image_once()
    {
        LocalVisionModel model = tiny.Model;
        IReadOnlyList<int> prompt = tiny.Prompt(Question, 0, 0);
        string key = "sha256-" + Guid.NewGuid().ToString("N");
        long missesBefore = model.FeatureCache.Misses, hitsBefore = model.FeatureCache.Hits;
        async Task<string> Run()
        {
            var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = 12, Seed = 42, Sampling = new() { Temperature = 0.9f } };
            using GenerationStream stream = await model.StartAsync(request, [TinySmolVlm.Image(1, salt: 5, cacheKey: key)]);
            GenerationResult result = await stream.CollectAsync();
            Assert.Equal(prompt.Count, result.PromptTokens);
            return Assert.Single(result.Choices).Text;
        }

        string first = await Run();
        string second = await Run();
        Assert.Equal(first, second);
        Assert.Equal(missesBefore + 1, model.FeatureCache.Misses);
        Assert.Equal(hitsBefore + 1, model.FeatureCache.Hits);
    }

    [Fact]
    public async Task Image_tokens_and_images_must_match()
    {
        LocalVisionModel model = tiny.Model;
        IReadOnlyList<int> prompt = tiny.Prompt(Question, 2, 2);
        var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = 4 };
        var ex = await Assert.ThrowsAsync<GenerationRequestException>(() => model.StartAsync(request, [TinySmolVlm.Image(1)]));
        Assert.Contains("80 image tokens", ex.Message, StringComparison.Ordinal);
        Assert.Contains("16 feature rows", ex.Message, StringComparison.Ordinal);

        IReadOnlyList<int> rendered = model.Tokenize(model.RenderPrompt(TinySmolVlm.UserTurn(Question)));
        Assert.Throws<GenerationRequestException>(() => model.ExpandImages(rendered, []));
    }

    [Fact]
    public async Task A_text_only_prompt_runs_through_the_embedding_graph()
    {
        LocalVisionModel model = tiny.Model;
        IReadOnlyList<int> prompt = model.Tokenize(model.RenderPrompt(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?>
            {
                new Dictionary<string, object?>
                {
                    ["role"] = "user",
                    ["content"] = new List<object?> { new Dictionary<string, object?> { ["type"] = "text", ["text"] = "Hello <image> there" } },
                },
            },
        }));

        // Message text that writes <image> is plain text, not an image placeholder.
        Assert.DoesNotContain(model.Folder.ImageTokenId, prompt);
        using GenerationStream stream = await model.StartAsync(new GenerationRequest { PromptTokens = prompt, MaxTokens = 6, Sampling = new() { Temperature = 0 } }, []);
        GenerationResult result = await stream.CollectAsync();
        Assert.InRange(result.CompletionTokens, 1, 6);
    }

    [Fact]
    public void The_feature_cache_is_bounded_and_least_recently_used()
    {
        var cache = new VisionFeatureCache(maxEntries: 2, maxBytes: 1 << 20);
        int encodes = 0;
        float[] Encode() { encodes++; return new float[16]; }
        cache.GetOrAdd("a", Encode);
        cache.GetOrAdd("b", Encode);
        cache.GetOrAdd("a", Encode);
        cache.GetOrAdd("c", Encode);
        Assert.Equal(3, encodes);
        Assert.Equal(2, cache.Count);
        cache.GetOrAdd("a", Encode);
        Assert.Equal(3, encodes);
        cache.GetOrAdd("b", Encode);
        Assert.Equal(4, encodes);

        var small = new VisionFeatureCache(maxEntries: 10, maxBytes: 100);
        small.GetOrAdd("x", () => new float[20]);
        small.GetOrAdd("y", () => new float[20]);
        Assert.Equal(1, small.Count);
    }
}

public sealed class VisionModelFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-vlm-folder-" + Guid.NewGuid().ToString("N"));

    private string Write(string name)
    {
        string dir = Path.Combine(_root, name);
        Capa.TestModels.Vision.SmolVlmTestModelWriter.Write(new Capa.TestModels.Vision.SmolVlmTestModelSpec(), dir);
        return dir;
    }

    [Fact]
    public void Reads_the_roles_configs_and_tokens()
    {
        VisionModelFolder folder = VisionModelFolder.Load(Write("ok"));
        Assert.Equal(ModelVariant.Fp32, folder.Variant);
        Assert.EndsWith("vision_encoder.onnx", folder.VisionEncoderPath, StringComparison.Ordinal);
        Assert.EndsWith("embed_tokens.onnx", folder.EmbedTokensPath, StringComparison.Ordinal);
        Assert.EndsWith("decoder_model_merged.onnx", folder.DecoderPath, StringComparison.Ordinal);
        Assert.Equal(16, folder.ImageSeqLen);
        Assert.Equal(32, folder.TileSize);
        Assert.Equal(64, folder.TextHiddenSize);
        Assert.Equal(folder.Tokenizer.TokenToId("<image>"), folder.ImageTokenId);
        Assert.Equal([folder.Tokenizer.TokenToId("<end_of_utterance>")!.Value], folder.EosTokenIds);
        Assert.Equal("chat_template.json", folder.ChatTemplateSource);
        Assert.Equal(3, folder.OnnxFiles.Count);
    }

    [Fact]
    public void Picks_variants_by_suffix_as_chat_folders_do()
    {
        string dir = Write("variants");
        foreach (string role in VisionModelFolder.Roles)
        {
            File.Copy(Path.Combine(dir, "onnx", role + ".onnx"), Path.Combine(dir, "onnx", role + "_q4.onnx"));
        }

        Assert.Equal(ModelVariant.Q4, VisionModelFolder.Load(dir).Variant);
        Assert.EndsWith("decoder_model_merged_q4.onnx", VisionModelFolder.Load(dir).DecoderPath, StringComparison.Ordinal);
        Assert.Equal(ModelVariant.Fp32, VisionModelFolder.Load(dir, ModelVariant.Fp32).Variant);
        var ex = Assert.Throws<ModelFolderException>(() => VisionModelFolder.Load(dir, ModelVariant.Int8));
        Assert.Contains("onnx/embed_tokens_int8.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("onnx/embed_tokens.onnx", "embed_tokens")]
    [InlineData("onnx/vision_encoder.onnx", "vision_encoder")]
    [InlineData("processor_config.json", "processor_config.json")]
    [InlineData("preprocessor_config.json", "preprocessor_config.json")]
    [InlineData("config.json", "config.json")]
    public void Refuses_a_folder_with_a_part_missing_and_names_it(string file, string named)
    {
        string dir = Write("missing-" + named);
        File.Delete(Path.Combine(dir, file));
        var ex = Assert.Throws<ModelFolderException>(() => VisionModelFolder.Load(dir));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_decoder_that_takes_token_ids()
    {
        string dir = Write("ids-decoder");
        string chat = Path.Combine(_root, "chat");
        Capa.TestModels.TestModelWriter.Write(new Capa.TestModels.TestModelSpec { Arch = Capa.TestModels.TestModelArch.Llama }, chat);
        File.Copy(Path.Combine(chat, "onnx", "model.onnx"), Path.Combine(dir, "onnx", "decoder_model_merged.onnx"), overwrite: true);
        var ex = Assert.Throws<ModelFolderException>(() => LocalVisionModel.Load(dir, new LocalVisionModelOptions { Decoder = new() { IntraOpThreads = 1 } }));
        Assert.Contains("inputs_embeds", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
