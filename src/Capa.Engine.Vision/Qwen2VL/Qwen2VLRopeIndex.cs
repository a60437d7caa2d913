namespace Capa.Engine.Vision.Qwen2VL;

/// <summary>
/// Multimodal rotary positions (M-RoPE) of one prompt, as Qwen2-VL's <c>get_rope_index</c> computes them: three rows
/// (temporal, height, width) of one position per token. Text tokens get the same position in all three rows, counting
/// on from the largest position before them; the <c>&lt;|image_pad|&gt;</c> run of an image whose merged grid is
/// t × h × w gets (frame, row, column) offsets added to the position the run starts at. Decoding goes on from
/// <see cref="Delta"/>: the token at sequence index i has position i + Delta in all three rows.
/// </summary>
/// <param name="Positions">Row-major [3, sequence]: temporal row, then height, then width.</param>
/// <param name="Length">The sequence length.</param>
/// <param name="Delta">Largest position + 1 − sequence length (<c>rope_deltas</c>); zero for text only, negative with images.</param>
public sealed record Qwen2VLRopeIndex(long[] Positions, int Length, long Delta)
{
    /// <summary>
    /// Computes the positions of <paramref name="ids"/>. Each image's grid (<c>image_grid_thw</c>, in patches) is
    /// consumed in order by the vision-start markers that are followed by an image token; the image's run of image
    /// tokens must be its grid's t × h × w / merge² tokens long.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt's images and the grids disagree.</exception>
    public static Qwen2VLRopeIndex Compute(
        IReadOnlyList<int> ids,
        int imageTokenId,
        int visionStartTokenId,
        IReadOnlyList<(int T, int H, int W)> imageGrids,
        int mergeSize)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(imageGrids);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mergeSize);
        var n = ids.Count;
        var positions = new long[3 * n];
        long next = 0;
        var st = 0;
        var image = 0;

        // The reference counts images by vision-start markers followed by an image token, then finds each run from the
        // previous run's end.
        var images = 0;
        for (var i = 0; i + 1 < n; i++)
        {
            if (ids[i] == visionStartTokenId && ids[i + 1] == imageTokenId)
            {
                images++;
            }
        }

        if (images != imageGrids.Count)
        {
            throw new ArgumentException($"The prompt holds {images} images but {imageGrids.Count} grids were given.", nameof(imageGrids));
        }

        for (var k = 0; k < images; k++)
        {
            var ed = st;
            while (ed < n && ids[ed] != imageTokenId)
            {
                ed++;
            }

            var (t, h, w) = imageGrids[image++];
            int gh = h / mergeSize, gw = w / mergeSize;
            var count = t * gh * gw;
            if (ed + count > n)
            {
                throw new ArgumentException($"Image {k} needs {count} image tokens; the prompt ends first.", nameof(ids));
            }

            for (var i = st; i < ed; i++, next++)
            {
                positions[i] = positions[n + i] = positions[(2 * n) + i] = next;
            }

            var start = next;
            long largest = start;
            for (var j = 0; j < count; j++)
            {
                var at = ed + j;
                long pt = start + (j / (gh * gw)), ph = start + ((j / gw) % gh), pw = start + (j % gw);
                positions[at] = pt;
                positions[n + at] = ph;
                positions[(2 * n) + at] = pw;
                largest = Math.Max(largest, Math.Max(pt, Math.Max(ph, pw)));
            }

            next = count > 0 ? largest + 1 : start;
            st = ed + count;
        }

        for (var i = st; i < n; i++, next++)
        {
            positions[i] = positions[n + i] = positions[(2 * n) + i] = next;
        }

        return new Qwen2VLRopeIndex(positions, n, n == 0 ? 0 : next - n);
    }

    /// <summary>The three positions of the token at sequence index <paramref name="index"/>.</summary>
    public (long T, long H, long W) At(int index) => index < Length
        ? (Positions[index], Positions[Length + index], Positions[(2 * Length) + index])
        : (index + Delta, index + Delta, index + Delta);
}
