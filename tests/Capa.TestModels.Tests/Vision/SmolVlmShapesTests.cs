using Capa.TestModels.Vision;

namespace Capa.TestModels.Tests.Vision;

public sealed class SmolVlmShapesTests
{
    [Fact]
    public void The_256m_shapes_give_SmolVLM_256Ms_tokens_per_tile_and_connector_width()
    {
        SmolVlmTestShapes shapes = SmolVlmTestShapes.RealShapes256M(tokenizerSize: 400);

        // SmolVLM-256M-Instruct: 512-px tiles of 16-px patches (1024), pixel shuffle by 4 → image_seq_len 64, and a
        // connector projecting 768 × 16 = 12,288 wide rows onto the 576-wide text embeddings.
        Assert.Equal(1024, shapes.Patches);
        Assert.Equal(64, shapes.ImageSeqLen);
        Assert.Equal(12_288, shapes.ShuffledWidth);
        Assert.Equal(576, shapes.Text.Hidden);
        Assert.Equal(49_280, shapes.Text.VocabSize);
        Assert.Equal(4, shapes.LongestEdge / shapes.ImageSize);
    }

    [Theory]
    [InlineData("tiny", SmolVlmTestSize.Tiny)]
    [InlineData(" 256M-real-shapes ", SmolVlmTestSize.RealShapes256M)]
    public void Size_names_parse(string name, SmolVlmTestSize expected) => Assert.Equal(expected, SmolVlmTestModelSpec.ParseSize(name));

    [Fact]
    public void An_unknown_size_names_the_choices()
    {
        var ex = Assert.Throws<ArgumentException>(() => SmolVlmTestModelSpec.ParseSize("0.5b"));
        Assert.Contains("tiny or 256m-real-shapes", ex.Message, StringComparison.Ordinal);
    }
}
