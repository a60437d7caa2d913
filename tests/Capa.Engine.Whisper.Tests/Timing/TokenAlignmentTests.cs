using Capa.Engine.Whisper.Timing;

namespace Capa.Engine.Whisper.Tests.Timing;

public sealed class TokenAlignmentTests
{
    [Fact]
    public void MedianFilter_ReflectsAtTheEdges()
    {
        float[] values = [1, 5, 2, 8, 3];
        var output = new float[5];
        TokenAlignment.MedianFilter(values, 3, output);
        // Windows: [5 1 5] [1 5 2] [5 2 8] [2 8 3] [8 3 8] (the edge value is not repeated).
        Assert.Equal([5f, 2f, 5f, 3f, 8f], output);

        TokenAlignment.MedianFilter(values, 7, output);
        // Width 7 on five values: [8 2 5 1 5 2 8] [2 5 1 5 2 8 3] [5 1 5 2 8 3 8] [1 5 2 8 3 8 2] [5 2 8 3 8 2 5].
        Assert.Equal([5f, 3f, 5f, 3f, 5f], output);

        float[] tooShort = [3, 1, 2];
        var copy = new float[3];
        TokenAlignment.MedianFilter(tooShort, 7, copy);
        Assert.Equal(tooShort, copy);
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenAlignment.MedianFilter(values, 4, output));
    }

    [Fact]
    public void Dtw_FollowsTheCheapCells()
    {
        // Row 0 is cheap in columns 0-1, row 1 in columns 2-4, row 2 in column 5.
        float[] cost =
        [
            0, 0, 9, 9, 9, 9,
            9, 9, 0, 0, 0, 9,
            9, 9, 9, 9, 9, 0,
        ];
        (int[] rows, int[] columns) = TokenAlignment.Dtw(cost, 3, 6);
        Assert.Equal([0, 0, 1, 1, 1, 2], rows);
        Assert.Equal([0, 1, 2, 3, 4, 5], columns);
        Assert.Equal([0.0, 0.04, 0.1], TokenAlignment.JumpTimes(rows, columns));
    }

    [Fact]
    public void Dtw_BreaksTiesTowardsTheNextColumn()
    {
        // All costs equal: inside the matrix every move ties and openai/whisper's rule records the horizontal one, so
        // the path goes down the first column and then along the last row.
        float[] cost = new float[3 * 4];
        (int[] rows, int[] columns) = TokenAlignment.Dtw(cost, 3, 4);
        Assert.Equal([0, 1, 2, 2, 2, 2], rows);
        Assert.Equal([0, 0, 0, 1, 2, 3], columns);
        Assert.Equal([0.0, 0.0, 0.0], TokenAlignment.JumpTimes(rows, columns));
    }

    [Fact]
    public void RowStartTimes_OfHandMadeAttention_AreWhereEachTokenLooks()
    {
        // Five tokens over 40 frames; token t attends to frames [8t, 8t + 8) (two heads, one noisier).
        const int tokens = 5, frames = 40;
        float[] Head(float focus)
        {
            var w = new float[tokens * frames];
            for (int t = 0; t < tokens; t++)
            {
                for (int f = 0; f < frames; f++)
                {
                    w[(t * frames) + f] = f / 8 == t ? focus / 8 : (1 - focus) / 32;
                }
            }

            return w;
        }

        float[] matrix = TokenAlignment.Matrix([Head(0.9f), Head(0.6f)], tokens, frames, frames);
        Assert.Equal([0.0, 0.16, 0.32, 0.48, 0.64], TokenAlignment.RowStartTimes(matrix, tokens, frames, 0, tokens));
        // Rows 1-3 alone (as the sot rows and the final row are left out): the path starts at frame 0.
        Assert.Equal([0.0, 0.32, 0.48], TokenAlignment.RowStartTimes(matrix, tokens, frames, 1, 4));
    }

    [Fact]
    public void Matrix_CroppedToTheAudio_RescalesEachRowAsTheSoftmaxOverTheCrop()
    {
        // Two tokens, four frames, the last two padding: cropping to two frames must equal a matrix built from the
        // rows renormalised over those two frames.
        float[] head = [0.1f, 0.3f, 0.4f, 0.2f, 0.2f, 0.2f, 0.3f, 0.3f];
        float[] cropped = [0.25f, 0.75f, 0.5f, 0.5f];
        float[] expected = TokenAlignment.Matrix([cropped], 2, 2, 2, medianWidth: 1);
        float[] actual = TokenAlignment.Matrix([head], 2, 4, 2, medianWidth: 1);
        // Standardised per frame over the tokens: -1 and +1 where the two tokens differ.
        float[] standardised = [-1f, 1f, 1f, -1f];
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
            Assert.Equal(standardised[i], actual[i], 1e-5f);
        }
    }
}
