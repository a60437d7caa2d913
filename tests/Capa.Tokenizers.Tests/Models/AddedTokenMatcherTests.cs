using Capa.Tokenizers.Models;

namespace Capa.Tokenizers.Tests.Models;

public sealed class AddedTokenMatcherTests
{
    private static List<string> Split(string text, params AddedToken[] tokens) =>
        [.. new AddedTokenMatcher(tokens).Split(text).Select(s => (s.Token is null ? "" : "#") + text[s.Start..s.End])];

    [Fact]
    public void LeftmostLongest()
    {
        var a = new AddedToken(1, "<|im");
        var b = new AddedToken(2, "<|im_start|>");
        Assert.Equal(["x", "#<|im_start|>", "y", "#<|im", "z"], Split("x<|im_start|>y<|imz", a, b));
    }

    [Fact]
    public void LStripAndRStrip_SwallowWhitespace()
    {
        var t = new AddedToken(1, "<mask>") { LStrip = true, RStrip = true };
        Assert.Equal(["a", "#  <mask> ", "b"], Split("a  <mask> b", t));
    }

    [Fact]
    public void SingleWord_MatchesOnlyWholeWords()
    {
        var t = new AddedToken(1, "ing") { SingleWord = true };
        Assert.Equal(["sing ", "#ing", " x"], Split("sing ing x", t));
    }

    [Fact]
    public void NoTokens_OneSegment() => Assert.Equal(["abc"], Split("abc"));
}
