using Capa.Cli.Repro;

namespace Capa.Cli.Tests.Repro;

public sealed class SequenceDiffTests
{
    [Fact]
    public void EqualSequencesAreAllEqual()
    {
        var edits = SequenceDiff.Compute(["a", "b", "c"], ["a", "b", "c"]);
        Assert.Equal(3, edits.Count);
        Assert.All(edits, e => Assert.Equal(DiffKind.Equal, e.Kind));
    }

    [Fact]
    public void InsertionsAreFound()
    {
        var edits = SequenceDiff.Compute(["a", "c"], ["a", "b", "c", "d"]);
        Assert.Equal(
            [(DiffKind.Equal, "a"), (DiffKind.Insert, "b"), (DiffKind.Equal, "c"), (DiffKind.Insert, "d")],
            edits.Select(e => (e.Kind, e.Value)));
    }

    [Fact]
    public void DeletionsAreFound()
    {
        var edits = SequenceDiff.Compute(["x", "a", "b", "c"], ["a", "c"]);
        Assert.Equal(
            [(DiffKind.Delete, "x"), (DiffKind.Equal, "a"), (DiffKind.Delete, "b"), (DiffKind.Equal, "c")],
            edits.Select(e => (e.Kind, e.Value)));
    }

    [Fact]
    public void ReplacementListsDeletionsBeforeInsertions()
    {
        var edits = SequenceDiff.Compute(["a", "b", "c", "z"], ["a", "x", "y", "z"]);
        Assert.Equal(
            [(DiffKind.Equal, "a"), (DiffKind.Delete, "b"), (DiffKind.Delete, "c"), (DiffKind.Insert, "x"), (DiffKind.Insert, "y"), (DiffKind.Equal, "z")],
            edits.Select(e => (e.Kind, e.Value)));
    }

    [Fact]
    public void EmptySequences()
    {
        Assert.Empty(SequenceDiff.Compute(Array.Empty<string>(), Array.Empty<string>()));
        Assert.All(SequenceDiff.Compute(["a", "b"], Array.Empty<string>()), e => Assert.Equal(DiffKind.Delete, e.Kind));
        Assert.All(SequenceDiff.Compute(Array.Empty<string>(), ["a", "b"]), e => Assert.Equal(DiffKind.Insert, e.Kind));
    }

    [Fact]
    public void ChineseCharactersDiffAsUnits()
    {
        var edits = SequenceDiff.Compute(["我", "喜", "欢", "苹", "果"], ["我", "爱", "苹", "果"]);
        Assert.Equal(
            [(DiffKind.Equal, "我"), (DiffKind.Delete, "喜"), (DiffKind.Delete, "欢"), (DiffKind.Insert, "爱"), (DiffKind.Equal, "苹"), (DiffKind.Equal, "果")],
            edits.Select(e => (e.Kind, e.Value)));
    }

    /// <summary>Against a dynamic-programming LCS on random inputs: the script rebuilds both sides and is minimal.</summary>
    [Fact]
    public void ScriptIsValidAndMinimalOnRandomInputs()
    {
        var random = new Random(42);
        for (int trial = 0; trial < 300; trial++)
        {
            int[] a = [.. Enumerable.Range(0, random.Next(0, 25)).Select(_ => random.Next(4))];
            int[] b = [.. Enumerable.Range(0, random.Next(0, 25)).Select(_ => random.Next(4))];
            var edits = SequenceDiff.Compute(a, b);
            Assert.Equal(a, edits.Where(e => e.Kind != DiffKind.Insert).Select(e => e.Value));
            Assert.Equal(b, edits.Where(e => e.Kind != DiffKind.Delete).Select(e => e.Value));
            int changes = edits.Count(e => e.Kind != DiffKind.Equal);
            Assert.Equal(a.Length + b.Length - (2 * Lcs(a, b)), changes);
        }
    }

    [Fact]
    public void VeryDifferentLongInputsFallBackToReplacement()
    {
        string[] a = [.. Enumerable.Range(0, SequenceDiff.MaxEditDistance + 10).Select(i => "a" + i)];
        string[] b = [.. Enumerable.Range(0, SequenceDiff.MaxEditDistance + 10).Select(i => "b" + i)];
        var edits = SequenceDiff.Compute(a, b);
        Assert.Equal(a, edits.Where(e => e.Kind == DiffKind.Delete).Select(e => e.Value));
        Assert.Equal(b, edits.Where(e => e.Kind == DiffKind.Insert).Select(e => e.Value));
    }

    private static int Lcs(int[] a, int[] b)
    {
        var table = new int[a.Length + 1, b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                table[i, j] = a[i - 1] == b[j - 1] ? table[i - 1, j - 1] + 1 : Math.Max(table[i - 1, j], table[i, j - 1]);
            }
        }

        return table[a.Length, b.Length];
    }
}
