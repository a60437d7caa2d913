using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Engine.Vision.Tests.Idefics3;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

/// <summary>
/// Capa's Qwen2-VL runtime on a Qwen2.5-VL-shaped folder (<c>capa testmodel --arch qwen2.5vl</c>): model_type
/// <c>qwen2_5_vl</c>, the text fields only in <c>text_config</c>, the vision encoder's grid input named
/// <c>image_grid_thw</c>. The writer gives it the same weights as the Qwen2-VL folder of the same seed.
/// </summary>
public sealed class Qwen25VlModelTests(TinyQwen2Vl qwen2, TinyQwen25Vl qwen25) : IClassFixture<TinyQwen2Vl>, IClassFixture<TinyQwen25Vl>
{
    private TinyQwen2Vl Tiny => qwen25.Tiny;

    [Fact]
    public void The_folder_loads_as_qwen2_5_vl_with_the_text_config_nested_and_the_grid_input_renamed()
    {
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(Tiny.Directory, "config.json"))))
        {
            // The text fields must come from text_config: none of them is at the top.
            Assert.False(config.RootElement.TryGetProperty("hidden_size", out _));
            Assert.False(config.RootElement.TryGetProperty("max_position_embeddings", out _));
            Assert.Equal("Qwen2_5_VLForConditionalGeneration", config.RootElement.GetProperty("architectures")[0].GetString());
        }

        using (var session = new InferenceSession(Tiny.Model.Folder.VisionEncoderPath))
        {
            Assert.Equal(["image_grid_thw", "pixel_values"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        }

        var folder = Tiny.Model.Folder;
        var reference = qwen2.Model.Folder;
        Assert.Equal((VisionFamily.Qwen2VL, "qwen2_5_vl", 2), (folder.Family, folder.ModelType, folder.MergeSize));
        Assert.Equal(reference.TextHiddenSize, folder.TextHiddenSize);
        Assert.Equal(reference.TextConfig.MaxContextLength, folder.TextConfig.MaxContextLength);
        Assert.Equal(reference.TextConfig.NumHiddenLayers, folder.TextConfig.NumHiddenLayers);
        Assert.Equal(reference.TextConfig.NumKeyValueHeads, folder.TextConfig.NumKeyValueHeads);
        Assert.Equal(reference.TextConfig.VocabSize, folder.TextConfig.VocabSize);
        Assert.Equal(reference.EosTokenIds, folder.EosTokenIds);
        Assert.Equal((reference.ImageTokenId, reference.VisionStartTokenId), (folder.ImageTokenId, folder.VisionStartTokenId));
        Assert.True(Tiny.Model.Decoder.MultimodalPositionRows);
        Assert.Equal(LocalVisionModel.Qwen2VLRuntimeVersion, Tiny.Model.FingerprintInputs["vision.runtime"]);
        Assert.Equal((3136L, 50176L), (Tiny.Processor.Config.MinPixels, Tiny.Processor.Config.MaxPixels));
        Assert.Equal(qwen2.Model.RenderPrompt(Model.TinySmolVlm.UserTurn("hi")), Tiny.Model.RenderPrompt(Model.TinySmolVlm.UserTurn("hi")));
    }

    /// <summary>
    /// Same weights, so the greedy answer about an image must be the Qwen2-VL folder's token for token, logprobs
    /// included: the image reaches the encoder through <c>image_grid_thw</c> and the positions are the same.
    /// </summary>
    [Theory]
    [InlineData(84, 56)]
    [InlineData(200, 150)]
    public async Task Greedy_answer_about_an_image_equals_the_qwen2_vl_folders(int width, int height)
    {
        var inputs = Tiny.Processor.Process(TestImages.Random(width, height, seed: width * height));
        var prompt = Tiny.Prompt(Qwen2VlModelTests.Question, inputs.ImageTokens);
        Assert.Equal(qwen2.Prompt(Qwen2VlModelTests.Question, inputs.ImageTokens), prompt);
        Assert.Equal(inputs.GridT * inputs.GridH * inputs.GridW / 4, prompt.Count(id => id == Tiny.Model.Folder.ImageTokenId));

        async Task<GenerationResult> Run(TinyQwen2Vl tiny)
        {
            using var stream = await tiny.Model.StartAsync(
                new GenerationRequest { PromptTokens = prompt, MaxTokens = Qwen2VlModelTests.MaxNewTokens, Sampling = new() { Temperature = 0, Logprobs = true } },
                [VisionImageInput.FromPatches(inputs, cacheKey: null)]);
            return await stream.CollectAsync();
        }

        var answer = Assert.Single((await Run(Tiny)).Choices);
        var expected = Assert.Single((await Run(qwen2)).Choices);
        Assert.NotEmpty(answer.Logprobs!);
        Assert.Equal(expected.Logprobs!.Select(l => l.TokenId), answer.Logprobs!.Select(l => l.TokenId));
        Assert.Equal(expected.Logprobs!.Select(l => l.Logprob), answer.Logprobs!.Select(l => l.Logprob));
        Assert.Equal(expected.FinishReason, answer.FinishReason);

        // The image matters: another image's features change the first token's logprob.
        var other = Tiny.Processor.Process(TestImages.Random(width, height, seed: width * height + 1));
        using var changed = await Tiny.Model.StartAsync(
            new GenerationRequest { PromptTokens = prompt, MaxTokens = 1, Sampling = new() { Temperature = 0, Logprobs = true } },
            [VisionImageInput.FromPatches(other, cacheKey: null)]);
        Assert.NotEqual(answer.Logprobs![0].Logprob, Assert.Single((await changed.CollectAsync()).Choices).Logprobs![0].Logprob);
    }

    /// <summary>transformers.js 4.3.1 runs qwen2_5_vl with Qwen2_5_VLForConditionalGeneration (image_grid_thw, text_config).</summary>
    [Model.VisionOracleTheory]
    [InlineData(84, 56, 1, 4, 6)]
    [InlineData(200, 150, 1, 10, 14)]
    public Task Greedy_tokens_equal_transformers_js_on_the_same_pixels(int width, int height, int t, int h, int w) =>
        Qwen2VlModelTests.AssertGreedyTokensEqualTransformersJs(Tiny, width, height, t, h, w);
}
