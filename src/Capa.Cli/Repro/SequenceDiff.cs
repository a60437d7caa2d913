namespace Capa.Cli.Repro;

/// <summary>What one edit of a diff does to its element.</summary>
internal enum DiffKind
{
    /// <summary>The element is in both sequences.</summary>
    Equal,

    /// <summary>The element is only in the old sequence.</summary>
    Delete,

    /// <summary>The element is only in the new sequence.</summary>
    Insert,
}

/// <summary>One element of an edit script.</summary>
internal readonly record struct DiffEdit<T>(DiffKind Kind, T Value);

/// <summary>
/// Myers' O((N+M)·D) shortest edit script (E. Myers, "An O(ND) Difference Algorithm and Its Variations", 1986):
/// the fewest deletions and insertions that turn one sequence into another. Within a changed region the script
/// lists deletions before insertions, which is what lets a renderer pair a removed line with its replacement.
/// </summary>
internal static class SequenceDiff
{
    /// <summary>Edits beyond which a region is reported as wholly replaced; bounds memory to about 16 MB.</summary>
    internal const int MaxEditDistance = 2000;

    public static IReadOnlyList<DiffEdit<T>> Compute<T>(IReadOnlyList<T> oldItems, IReadOnlyList<T> newItems, IEqualityComparer<T>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(oldItems);
        ArgumentNullException.ThrowIfNull(newItems);
        comparer ??= EqualityComparer<T>.Default;

        // Common prefix and suffix cost nothing to find and keep the quadratic part to the region that changed.
        int prefix = 0;
        while (prefix < oldItems.Count && prefix < newItems.Count && comparer.Equals(oldItems[prefix], newItems[prefix]))
        {
            prefix++;
        }

        int suffix = 0;
        while (suffix < oldItems.Count - prefix && suffix < newItems.Count - prefix
            && comparer.Equals(oldItems[oldItems.Count - 1 - suffix], newItems[newItems.Count - 1 - suffix]))
        {
            suffix++;
        }

        var edits = new List<DiffEdit<T>>(Math.Max(oldItems.Count, newItems.Count) + 4);
        for (int i = 0; i < prefix; i++)
        {
            edits.Add(new DiffEdit<T>(DiffKind.Equal, oldItems[i]));
        }

        ShortestEditScript(oldItems, prefix, oldItems.Count - suffix, newItems, prefix, newItems.Count - suffix, comparer, edits);

        for (int i = oldItems.Count - suffix; i < oldItems.Count; i++)
        {
            edits.Add(new DiffEdit<T>(DiffKind.Equal, oldItems[i]));
        }

        return edits;
    }

    /// <summary>Greedy forward Myers over a[aStart..aEnd) and b[bStart..bEnd), then a backtrack over the saved frontiers.</summary>
    private static void ShortestEditScript<T>(
        IReadOnlyList<T> a, int aStart, int aEnd, IReadOnlyList<T> b, int bStart, int bEnd, IEqualityComparer<T> comparer, List<DiffEdit<T>> edits)
    {
        int n = aEnd - aStart, m = bEnd - bStart;
        if (n == 0 || m == 0)
        {
            AppendReplacement(a, aStart, aEnd, b, bStart, bEnd, edits);
            return;
        }

        int max = n + m, offset = max + 1;
        var v = new int[(2 * max) + 4];
        var trace = new List<int[]>();
        int finalD = -1;
        for (int d = 0; d <= max && finalD < 0; d++)
        {
            if (d > MaxEditDistance)
            {
                // Past this many edits the texts have little in common: report the region as replaced
                // rather than spend quadratic memory on an alignment nobody will read.
                AppendReplacement(a, aStart, aEnd, b, bStart, bEnd, edits);
                return;
            }

            // Step d reads the frontier at diagonals -d-1 .. d+1: keep just that slice for the backtrack.
            trace.Add(v.AsSpan(offset - d - 1, (2 * d) + 3).ToArray());
            for (int k = -d; k <= d; k += 2)
            {
                int x = k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1])
                    ? v[offset + k + 1]
                    : v[offset + k - 1] + 1;
                int y = x - k;
                while (x < n && y < m && comparer.Equals(a[aStart + x], b[bStart + y]))
                {
                    x++;
                    y++;
                }

                v[offset + k] = x;
                if (x >= n && y >= m)
                {
                    finalD = d;
                    break;
                }
            }
        }

        // Walk back from (n, m) through the frontier saved before each step d.
        var reversed = new List<DiffEdit<T>>(n + m);
        int cx = n, cy = m;
        for (int d = finalD; d > 0; d--)
        {
            int[] before = trace[d];
            int bias = d + 1;
            int k = cx - cy;
            int prevK = k == -d || (k != d && before[bias + k - 1] < before[bias + k + 1]) ? k + 1 : k - 1;
            int prevX = before[bias + prevK];
            int prevY = prevX - prevK;
            while (cx > prevX && cy > prevY)
            {
                reversed.Add(new DiffEdit<T>(DiffKind.Equal, a[aStart + cx - 1]));
                cx--;
                cy--;
            }

            if (cx == prevX)
            {
                reversed.Add(new DiffEdit<T>(DiffKind.Insert, b[bStart + cy - 1]));
            }
            else
            {
                reversed.Add(new DiffEdit<T>(DiffKind.Delete, a[aStart + cx - 1]));
            }

            cx = prevX;
            cy = prevY;
        }

        while (cx > 0 && cy > 0)
        {
            reversed.Add(new DiffEdit<T>(DiffKind.Equal, a[aStart + cx - 1]));
            cx--;
            cy--;
        }

        // Backtracking yields insert-then-delete order inside a change; renderers want deletions first.
        reversed.Reverse();
        NormalizeChangeOrder(reversed);
        edits.AddRange(reversed);
    }

    private static void AppendReplacement<T>(IReadOnlyList<T> a, int aStart, int aEnd, IReadOnlyList<T> b, int bStart, int bEnd, List<DiffEdit<T>> edits)
    {
        for (int i = aStart; i < aEnd; i++)
        {
            edits.Add(new DiffEdit<T>(DiffKind.Delete, a[i]));
        }

        for (int j = bStart; j < bEnd; j++)
        {
            edits.Add(new DiffEdit<T>(DiffKind.Insert, b[j]));
        }
    }

    private static void NormalizeChangeOrder<T>(List<DiffEdit<T>> edits)
    {
        int i = 0;
        while (i < edits.Count)
        {
            if (edits[i].Kind == DiffKind.Equal)
            {
                i++;
                continue;
            }

            int start = i;
            while (i < edits.Count && edits[i].Kind != DiffKind.Equal)
            {
                i++;
            }

            var region = edits.GetRange(start, i - start);
            int w = start;
            foreach (var edit in region.Where(e => e.Kind == DiffKind.Delete))
            {
                edits[w++] = edit;
            }

            foreach (var edit in region.Where(e => e.Kind == DiffKind.Insert))
            {
                edits[w++] = edit;
            }
        }
    }
}
