namespace Capa.Engine.Text.Generation;

/// <summary>
/// Rotary positions in three rows (temporal, height, width) for a decoder with multimodal RoPE (Qwen2-VL's M-RoPE,
/// <c>position_ids</c> [3, batch, seq]): the prompt's positions as the model family computes them, and the offset every
/// later token's position has from its sequence index, the same in all rows (<c>rope_deltas</c>).
/// </summary>
/// <param name="Rows">Row-major [3, <paramref name="Length"/>].</param>
/// <param name="Length">The prompt length the rows cover.</param>
/// <param name="Delta">Position − sequence index for every token after the prompt.</param>
public sealed record MultimodalPositions(long[] Rows, int Length, long Delta)
{
    /// <summary>Writes the three positions of tokens <paramref name="start"/> .. start + n into <paramref name="destination"/> ([3, n]).</summary>
    public void Write(int start, int n, Span<long> destination)
    {
        for (var i = 0; i < n; i++)
        {
            var index = start + i;
            if (index < Length)
            {
                destination[i] = Rows[index];
                destination[n + i] = Rows[Length + index];
                destination[(2 * n) + i] = Rows[(2 * Length) + index];
            }
            else
            {
                destination[i] = destination[n + i] = destination[(2 * n) + i] = index + Delta;
            }
        }
    }
}
