using Capa.Engine.Text.Generation;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Engine.Vision.Tests.Idefics3;
using Capa.Engine.Vision.Tests.Model;
using Capa.Models.Config;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

/// <summary>Capa's Qwen2-VL runtime on the random-weight folder of <c>capa testmodel --arch qwen2vl</c>.</summary>
public sealed class Qwen2VlModelTests(TinyQwen2Vl tiny) : IClassFixture<TinyQwen2Vl>
{
    internal const string Question = "What is in this image? Describe it in one sentence.";
    internal const int MaxNewTokens = 16;

    /// <summary>
    /// The same pixel rows are fed to both (transformers.js' processor builds its prompt from a blank image of the given
    /// size, then its pixel values are replaced by Capa's): the sizes avoid the half-way roundings where transformers.js'
    /// smart_resize differs from Python's, so both grids are equal. Prompts must match token for token, then the greedy
    /// tokens, which depend on the multimodal positions of the prompt and on the rope delta while decoding.
    /// </summary>
    [VisionOracleTheory]
    [InlineData(84, 56, 1, 4, 6)]
    [InlineData(200, 150, 1, 10, 14)]
    [InlineData(640, 480, 1, 12, 18)]
    public Task Greedy_tokens_equal_transformers_js_on_the_same_pixels(int width, int height, int t, int h, int w) =>
        AssertGreedyTokensEqualTransformersJs(tiny, width, height, t, h, w);

    /// <summary>The oracle comparison above, for either family's folder.</summary>
    internal static async Task AssertGreedyTokensEqualTransformersJs(TinyQwen2Vl tiny, int width, int height, int t, int h, int w)
    {
        var inputs = tiny.Processor.Process(TestImages.Random(width, height, seed: width + height));
        Assert.Equal((t, h, w), (inputs.GridT, inputs.GridH, inputs.GridW));
        var oracle = Qwen2VlOracle.Generate(tiny.Directory, inputs.PixelValues, width, height, Question, MaxNewTokens);
        Assert.Equal([t * h * w, 1176], oracle.PixelDims);
        Assert.Equal([t, h, w], oracle.Grid);

        var prompt = tiny.Prompt(Question, inputs.ImageTokens);
        Assert.Equal(oracle.Prompt, prompt);
        Assert.Equal(t * h * w / 4, prompt.Count(id => id == tiny.Model.Folder.ImageTokenId));

        using var stream = await tiny.Model.StartAsync(
            new GenerationRequest { PromptTokens = prompt, MaxTokens = MaxNewTokens, Sampling = new() { Temperature = 0, Logprobs = true } },
            [VisionImageInput.FromPatches(inputs, cacheKey: null)]);
        var result = await stream.CollectAsync();
        var choice = Assert.Single(result.Choices);
        int[] capa = [.. choice.Logprobs!.Select(l => l.TokenId)];

        // transformers.js lists the end token it stopped on; Capa ends the choice there instead of emitting it.
        int[] expected = oracle.Generated;
        if (expected.Length > 0 && tiny.Model.Engine.EosTokenIds.Contains(expected[^1]))
        {
            expected = expected[..^1];
            Assert.Equal(FinishReason.Stop, choice.FinishReason);
        }

        Assert.True(expected.Length > 0, "The oracle stopped at once: the comparison would be empty.");
        Assert.Equal(expected, capa);
    }

    [Fact]
    public void The_folder_loads_as_the_qwen2_vl_family()
    {
        var folder = tiny.Model.Folder;
        Assert.Equal((VisionFamily.Qwen2VL, "qwen2_vl", 2), (folder.Family, folder.ModelType, folder.MergeSize));
        Assert.Equal(folder.Tokenizer.TokenToId("<|image_pad|>"), folder.ImageTokenId);
        Assert.Equal(folder.Tokenizer.TokenToId("<|vision_start|>"), folder.VisionStartTokenId);
        Assert.True(tiny.Model.Decoder.MultimodalPositionRows);
        Assert.Equal(LocalVisionModel.Qwen2VLRuntimeVersion, tiny.Model.FingerprintInputs["vision.runtime"]);
        Assert.Equal((3136L, 50176L), (tiny.Processor.Config.MinPixels, tiny.Processor.Config.MaxPixels));
    }

    [Fact]
    public async Task Positions_change_the_answer_and_seeded_runs_repeat()
    {
        var inputs = tiny.Processor.Process(TestImages.Random(200, 150, seed: 9));
        var image = VisionImageInput.FromPatches(inputs, cacheKey: "hash-9");
        var prompt = tiny.Prompt(Question, inputs.ImageTokens);
        var positions = tiny.Model.PromptPositions(prompt, [image])!;
        Assert.True(positions.Delta < 0);

        async Task<int[]> Run(GenerationRequest request)
        {
            using var stream = await tiny.Model.Engine.StartAsync(request);
            var result = await stream.CollectAsync();
            return [.. Assert.Single(result.Choices).Logprobs!.Select(l => l.TokenId)];
        }

        var embeddings = tiny.Model.BuildPromptEmbeddings(prompt, [image]);
        var request = new GenerationRequest { PromptTokens = prompt, MaxTokens = 8, Sampling = new() { Temperature = 0, Logprobs = true }, PromptEmbeddings = embeddings };
        var multimodal = await Run(request with { PromptPositions = positions });
        var textual = await Run(request);
        Assert.Equal(multimodal, await Run(request with { PromptPositions = positions }));

        // The same embeddings with text positions (one row counted on) give other logits: the rows reach the decoder.
        using var a = await tiny.Model.Engine.StartAsync(request with { PromptPositions = positions, MaxTokens = 1 });
        using var b = await tiny.Model.Engine.StartAsync(request with { MaxTokens = 1 });
        var la = Assert.Single((await a.CollectAsync()).Choices).Logprobs![0].Logprob;
        var lb = Assert.Single((await b.CollectAsync()).Choices).Logprobs![0].Logprob;
        Assert.NotEqual(la, lb);
        Assert.Equal(8, multimodal.Length);
        Assert.Equal(8, textual.Length);
    }

    [Fact]
    public void A_smolvlm_runtime_refuses_tiles_for_a_qwen_folder_and_grids_must_fit_the_prompt()
    {
        var inputs = tiny.Processor.Process(TestImages.Random(84, 56, seed: 1));
        var prompt = tiny.Prompt(Question, inputs.ImageTokens);
        var wrong = VisionImageInput.FromPatches(inputs.PixelValues, 1176, 1, 4, 4, null);
        Assert.Throws<GenerationRequestException>(() => tiny.Model.BuildPromptEmbeddings(prompt, [wrong]));
        Assert.Throws<GenerationRequestException>(() => tiny.Model.PromptPositions(prompt, [wrong, wrong]));
        Assert.Throws<ArgumentException>(() => tiny.Model.EncodeImage(new VisionImageInput(new float[3 * 32 * 32], new bool[32 * 32], 1, 32, null)));
    }

    [Fact]
    public void A_folder_without_vision_start_token_id_is_refused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "capa-qwen2vl-bad-" + Guid.NewGuid().ToString("N"));
        try
        {
            Capa.TestModels.Vision.Qwen2VlTestModelWriter.Write(seed: 5, dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), File.ReadAllText(Path.Combine(dir, "config.json")).Replace("\"vision_start_token_id\"", "\"unused_start\"", StringComparison.Ordinal));
            var error = Assert.Throws<ModelFolderException>(() => VisionModelFolder.Load(dir));
            Assert.Contains("vision_start_token_id", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
