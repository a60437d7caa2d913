using Capa.Cli.Repro;

namespace Capa.Cli.Tests.Repro;

public sealed class TextDiffTests
{
    [Fact]
    public void EqualTextsHaveNoDifferences()
    {
        var diff = TextDiff.Compute("one\ntwo", "one\ntwo");
        Assert.False(diff.HasDifferences);
        Assert.Equal(["one", "two"], diff.Lines.Select(l => l.Text));
    }

    [Fact]
    public void EmptyTexts()
    {
        Assert.Empty(TextDiff.Compute(string.Empty, string.Empty).Lines);
        var added = TextDiff.Compute(string.Empty, "new line");
        Assert.True(added.HasDifferences);
        Assert.Equal(DiffKind.Insert, Assert.Single(added.Lines).Kind);
        var removed = TextDiff.Compute("old line", string.Empty);
        Assert.Equal(DiffKind.Delete, Assert.Single(removed.Lines).Kind);
    }

    [Theory]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb\r\n", new[] { "a", "b" })]
    [InlineData("a\rb\n\nc", new[] { "a", "b", "", "c" })]
    [InlineData("", new string[0])]
    public void SplitsLinesLikeSplitlines(string text, string[] expected) =>
        Assert.Equal(expected, TextDiff.SplitLines(text));

    [Fact]
    public void ChangedLineIsHighlightedWordByWord()
    {
        var diff = TextDiff.Compute("intro\nThe crew landed on Mars.\nend", "intro\nThe crew crashed on Mars.\nend");
        Assert.Equal([DiffKind.Equal, DiffKind.Delete, DiffKind.Insert, DiffKind.Equal], diff.Lines.Select(l => l.Kind));
        var deleted = diff.Lines[1];
        var inserted = diff.Lines[2];
        Assert.Equal(["landed"], deleted.Spans.Where(s => s.Changed).Select(s => s.Text));
        Assert.Equal(["crashed"], inserted.Spans.Where(s => s.Changed).Select(s => s.Text));
        Assert.Equal(deleted.Text, string.Concat(deleted.Spans.Select(s => s.Text)));
        Assert.Equal(inserted.Text, string.Concat(inserted.Spans.Select(s => s.Text)));
    }

    [Fact]
    public void ChineseLineIsHighlightedCharacterByCharacter()
    {
        var diff = TextDiff.Compute("我们飞向火星。", "我们飞向月球。");
        var deleted = diff.Lines.Single(l => l.Kind == DiffKind.Delete);
        var inserted = diff.Lines.Single(l => l.Kind == DiffKind.Insert);
        Assert.Equal(["火星"], deleted.Spans.Where(s => s.Changed).Select(s => s.Text));
        Assert.Equal(["月球"], inserted.Spans.Where(s => s.Changed).Select(s => s.Text));
    }

    [Fact]
    public void TokensRebuildTheLine()
    {
        const string line = "Hello, 世界! It's 2050 — café 🚀 ok";
        var tokens = TextDiff.Tokenize(line);
        Assert.Equal(line, string.Concat(tokens));
        Assert.Contains("Hello", tokens);
        Assert.Contains("世", tokens);
        Assert.Contains("café", tokens);
        Assert.Contains("🚀", tokens);
    }

    [Fact]
    public void UnrelatedLinesAreNotHighlightedWordByWord()
    {
        var diff = TextDiff.Compute("The crew landed on the red planet.", "A storm hid the sun for days.");
        Assert.All(diff.Lines, l => Assert.True(Assert.Single(l.Spans).Changed));
    }

    [Fact]
    public void UnpairedLinesAreWhollyChanged()
    {
        var diff = TextDiff.Compute("a", "b\nc");
        Assert.Equal([DiffKind.Delete, DiffKind.Insert, DiffKind.Insert], diff.Lines.Select(l => l.Kind));
        Assert.True(Assert.Single(diff.Lines[2].Spans).Changed);
    }

    [Fact]
    public void ConsoleShowsControlCharactersInsteadOfObeyingThem()
    {
        Assert.Equal("a\u241b[2Jb\tc\nd", ConsoleReport.Printable("a\u001b[2Jb\tc\r\nd"));
        Assert.Equal("plain 中文", ConsoleReport.Printable("plain 中文"));
    }
}
