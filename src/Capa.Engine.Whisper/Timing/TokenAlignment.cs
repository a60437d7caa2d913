namespace Capa.Engine.Whisper.Timing;

/// <summary>
/// The numeric core of openai/whisper's <c>find_alignment</c>: the alignment heads' cross-attention weights are
/// normalised per audio frame over the tokens, smoothed by a median filter along time, averaged over the heads, and a
/// dynamic time warping path through the negated matrix maps each token row to the frame where it starts.
/// </summary>
internal static class TokenAlignment
{
    /// <summary>openai/whisper's median filter width.</summary>
    public const int MedianFilterWidth = 7;

    /// <summary>Seconds per encoder frame (50 frames a second).</summary>
    public const double SecondsPerFrame = 0.02;

    /// <summary>
    /// Builds the alignment matrix, row-major [tokens, <paramref name="usedFrames"/>], from each head's weights
    /// (row-major [tokens, <paramref name="frames"/>], softmax applied by the model).
    /// </summary>
    /// <param name="heads">One array per alignment head.</param>
    /// <param name="tokens">Rows of each head's weights.</param>
    /// <param name="frames">Columns of each head's weights (1500).</param>
    /// <param name="usedFrames">The frames that hold audio (the rest of the window is padding).</param>
    /// <param name="medianWidth">The median filter's width (odd).</param>
    public static float[] Matrix(IReadOnlyList<float[]> heads, int tokens, int frames, int usedFrames, int medianWidth = MedianFilterWidth)
    {
        ArgumentNullException.ThrowIfNull(heads);
        ArgumentOutOfRangeException.ThrowIfLessThan(usedFrames, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(usedFrames, frames);
        var matrix = new double[tokens * usedFrames];
        var weights = new float[tokens * usedFrames];
        var row = new float[usedFrames];
        foreach (float[] head in heads)
        {
            if (head.Length != tokens * frames)
            {
                throw new ArgumentException($"Each head needs {tokens} × {frames} weights.", nameof(heads));
            }

            for (int t = 0; t < tokens; t++)
            {
                ReadOnlySpan<float> source = head.AsSpan(t * frames, usedFrames);
                Span<float> target = weights.AsSpan(t * usedFrames, usedFrames);
                if (usedFrames == frames)
                {
                    source.CopyTo(target);
                    continue;
                }

                // openai/whisper crops the attention logits to the audio before the softmax; the model's weights come
                // softmaxed over the whole window, so the cropped row is rescaled to sum to one (the same softmax).
                double sum = 0;
                foreach (float w in source)
                {
                    sum += w;
                }

                for (int f = 0; f < usedFrames; f++)
                {
                    target[f] = sum > 0 ? (float)(source[f] / sum) : 0f;
                }
            }

            // Standardise each frame (column) over the tokens, population statistics as torch.std_mean(unbiased=False).
            for (int f = 0; f < usedFrames; f++)
            {
                double mean = 0;
                for (int t = 0; t < tokens; t++)
                {
                    mean += weights[(t * usedFrames) + f];
                }

                // Single-precision statistics, as torch and transformers.js keep them.
                mean = (float)(mean / tokens);
                double variance = 0;
                for (int t = 0; t < tokens; t++)
                {
                    double d = weights[(t * usedFrames) + f] - mean;
                    variance += d * d;
                }

                double std = (float)Math.Sqrt(variance / tokens);
                for (int t = 0; t < tokens; t++)
                {
                    int i = (t * usedFrames) + f;
                    // A frame every token attends to equally carries no timing information (and would divide by zero).
                    weights[i] = std > 0 ? (float)((weights[i] - mean) / std) : 0f;
                }
            }

            for (int t = 0; t < tokens; t++)
            {
                Span<float> values = weights.AsSpan(t * usedFrames, usedFrames);
                MedianFilter(values, medianWidth, row);
                for (int f = 0; f < usedFrames; f++)
                {
                    matrix[(t * usedFrames) + f] += row[f];
                }
            }
        }

        var result = new float[matrix.Length];
        for (int i = 0; i < matrix.Length; i++)
        {
            result[i] = (float)(matrix[i] / heads.Count);
        }

        return result;
    }

    /// <summary>
    /// A median filter of odd <paramref name="width"/> along <paramref name="values"/>, reflecting at the edges (the
    /// edge value itself not repeated), into <paramref name="output"/>. A row no longer than half the width is copied
    /// unchanged, as openai/whisper's <c>median_filter</c> does.
    /// </summary>
    public static void MedianFilter(ReadOnlySpan<float> values, int width, Span<float> output)
    {
        if (width <= 0 || width % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), "The filter width must be a positive odd number.");
        }

        int half = width / 2;
        int n = values.Length;
        if (n <= half)
        {
            values.CopyTo(output);
            return;
        }

        Span<float> window = width <= 64 ? stackalloc float[width] : new float[width];
        for (int i = 0; i < n; i++)
        {
            for (int j = -half; j <= half; j++)
            {
                int k = i + j;
                k = k < 0 ? -k : k >= n ? (2 * (n - 1)) - k : k;
                window[j + half] = values[k];
            }

            window.Sort();
            output[i] = window[half];
        }
    }

    /// <summary>
    /// Dynamic time warping through <paramref name="cost"/> (row-major [rows, columns]): the cheapest monotonic path from
    /// the first cell to the last, moving diagonally, down (next row) or right (next column); ties go right, as
    /// openai/whisper's <c>dtw_cpu</c> breaks them. Returns the path's row and column indices, in order.
    /// </summary>
    public static (int[] Rows, int[] Columns) Dtw(ReadOnlySpan<float> cost, int rows, int columns)
    {
        if (cost.Length != rows * columns || rows < 1 || columns < 1)
        {
            throw new ArgumentException($"The cost matrix must hold {rows} × {columns} values.", nameof(cost));
        }

        int width = columns + 1;
        var total = new double[(rows + 1) * width];
        var trace = new byte[(rows + 1) * width];
        Array.Fill(total, double.PositiveInfinity);
        total[0] = 0;
        for (int j = 1; j <= columns; j++)
        {
            for (int i = 1; i <= rows; i++)
            {
                double diagonal = total[((i - 1) * width) + j - 1];
                double up = total[((i - 1) * width) + j];
                double left = total[(i * width) + j - 1];
                double best;
                byte move;
                if (diagonal < up && diagonal < left)
                {
                    (best, move) = (diagonal, 0);
                }
                else if (up < diagonal && up < left)
                {
                    (best, move) = (up, 1);
                }
                else
                {
                    (best, move) = (left, 2);
                }

                total[(i * width) + j] = cost[((i - 1) * columns) + j - 1] + best;
                trace[(i * width) + j] = move;
            }
        }

        // The borders lead back to the origin: along the first row leftwards, along the first column upwards.
        for (int j = 0; j <= columns; j++)
        {
            trace[j] = 2;
        }

        for (int i = 0; i <= rows; i++)
        {
            trace[i * width] = 1;
        }

        var pathRows = new List<int>(rows + columns);
        var pathColumns = new List<int>(rows + columns);
        int r = rows, c = columns;
        while (r > 0 || c > 0)
        {
            pathRows.Add(r - 1);
            pathColumns.Add(c - 1);
            switch (trace[(r * width) + c])
            {
                case 0:
                    r--;
                    c--;
                    break;
                case 1:
                    r--;
                    break;
                default:
                    c--;
                    break;
            }
        }

        pathRows.Reverse();
        pathColumns.Reverse();
        return ([.. pathRows], [.. pathColumns]);
    }

    /// <summary>
    /// The time (seconds) at which the path enters each row: the column of every step where the row index changes
    /// (and of the first step), times <see cref="SecondsPerFrame"/>. One value per row.
    /// </summary>
    public static double[] JumpTimes(int[] rows, int[] columns)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        var times = new List<double>();
        for (int i = 0; i < rows.Length; i++)
        {
            if (i == 0 || rows[i] != rows[i - 1])
            {
                times.Add(columns[i] * SecondsPerFrame);
            }
        }

        return [.. times];
    }

    /// <summary>
    /// Jump times of the rows <paramref name="firstRow"/> (inclusive) to <paramref name="endRow"/> (exclusive) of a
    /// matrix from <see cref="Matrix"/>: the DTW runs over those rows only, negated (high attention is a low cost).
    /// </summary>
    public static double[] RowStartTimes(float[] matrix, int tokens, int frames, int firstRow, int endRow)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int rows = endRow - firstRow;
        var cost = new float[rows * frames];
        for (int i = 0; i < cost.Length; i++)
        {
            cost[i] = -matrix[(firstRow * frames) + i];
        }

        (int[] pathRows, int[] pathColumns) = Dtw(cost, rows, frames);
        return JumpTimes(pathRows, pathColumns);
    }
}
