using Capa.Engine.Text.Generation;

namespace Capa.Engine.Vision.Tests.Model;

/// <summary>Capa's SmolVLM runtime against transformers.js on the same random-weight folder.</summary>
public sealed class SmolVlmOracleTests(TinySmolVlm tiny) : IClassFixture<TinySmolVlm>
{
    private const string Question = "What is in this image? Describe it in one sentence.";
    private const int MaxNewTokens = 16;

    /// <summary>
    /// The same pixel tensor is fed to both (transformers.js' processor builds its prompt from a blank image of the given
    /// size, then its pixel values are replaced by ours): this test is about the model, not about resizing, which
    /// transformers.js rounds differently from Pillow and is tested against Pillow elsewhere. The prompts must match
    /// token for token, then the greedy tokens.
    /// </summary>
    [VisionOracleTheory]
    [InlineData(false, 40, 30, 0, 0)]
    [InlineData(true, 64, 64, 2, 2)]
    [InlineData(true, 64, 32, 1, 2)]
    public async Task Greedy_tokens_equal_transformers_js_on_the_same_pixels(bool split, int width, int height, int rows, int cols)
    {
        int tiles = rows * cols + 1;
        VisionImageInput image = TinySmolVlm.Image(tiles, salt: width + height);
        VisionOracle.Answer oracle = VisionOracle.Generate(tiny.Directory, image.PixelValues, width, height, split, Question, MaxNewTokens);
        Assert.Equal([1, tiles, 3, TinySmolVlm.TileSize, TinySmolVlm.TileSize], oracle.PixelDims);
        Assert.Equal((rows, cols), (oracle.Rows, oracle.Cols));

        IReadOnlyList<int> prompt = tiny.Prompt(Question, rows, cols);
        Assert.Equal(oracle.Prompt, prompt);
        Assert.Equal(tiles * TinySmolVlm.ImageSeqLen, prompt.Count(id => id == tiny.Model.Folder.ImageTokenId));

        using GenerationStream stream = await tiny.Model.StartAsync(
            new GenerationRequest { PromptTokens = prompt, MaxTokens = MaxNewTokens, Sampling = new() { Temperature = 0, Logprobs = true } },
            [image]);
        GenerationResult result = await stream.CollectAsync();
        GenerationChoice choice = Assert.Single(result.Choices);
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
}
