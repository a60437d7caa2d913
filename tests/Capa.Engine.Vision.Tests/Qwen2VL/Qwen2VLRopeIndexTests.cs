using Capa.Engine.Vision.Qwen2VL;

namespace Capa.Engine.Vision.Tests.Qwen2VL;

public sealed class Qwen2VLRopeIndexTests
{
    private const int Start = 900;
    private const int Pad = 901;
    private const int End = 902;

    [Fact]
    public void Image_tokens_get_grid_positions_and_text_counts_on_from_the_largest()
    {
        // Three text tokens, an image of 4 × 6 patches (2 × 3 merged tokens), then three text tokens.
        int[] ids = [1, 2, Start, Pad, Pad, Pad, Pad, Pad, Pad, End, 3, 4];

        var rope = Qwen2VLRopeIndex.Compute(ids, Pad, Start, [(1, 4, 6)], mergeSize: 2);

        long[] t = [0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8];
        long[] h = [0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8];
        long[] w = [0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8];
        Assert.Equal([.. t, .. h, .. w], rope.Positions);
        Assert.Equal(12, rope.Length);
        // Largest position 8 + 1 − 12 tokens.
        Assert.Equal(-3, rope.Delta);
        Assert.Equal((9L, 9L, 9L), rope.At(12));
    }

    [Fact]
    public void Two_images_are_placed_in_order_and_text_only_has_no_delta()
    {
        int[] ids = [Start, Pad, Pad, Pad, Pad, End, 7, Start, Pad, End];

        var rope = Qwen2VLRopeIndex.Compute(ids, Pad, Start, [(1, 4, 4), (1, 2, 2)], mergeSize: 2);

        Assert.Equal([0, 1, 1, 1, 1, 3, 4, 5, 6, 7], rope.Positions[..10]);
        Assert.Equal([0, 1, 1, 2, 2, 3, 4, 5, 6, 7], rope.Positions[10..20]);
        Assert.Equal([0, 1, 2, 1, 2, 3, 4, 5, 6, 7], rope.Positions[20..]);
        Assert.Equal(-2, rope.Delta);

        var text = Qwen2VLRopeIndex.Compute([5, 6, 7], Pad, Start, [], mergeSize: 2);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], text.Positions);
        Assert.Equal(0, text.Delta);
    }

    [Fact]
    public void Grids_that_do_not_fit_the_prompt_are_refused()
    {
        int[] ids = [Start, Pad, End];
        Assert.Throws<ArgumentException>(() => Qwen2VLRopeIndex.Compute(ids, Pad, Start, [], 2));
        Assert.Throws<ArgumentException>(() => Qwen2VLRopeIndex.Compute(ids, Pad, Start, [(1, 4, 4)], 2));
    }
}
