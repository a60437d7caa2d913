using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class StopSequenceMatcherTests
{
    [Fact]
    public void StopSplitAcrossPieces_IsFoundAndNotEmitted()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("Hello ", m.Push("Hello S"));
        Assert.Equal(string.Empty, m.Push("T"));
        Assert.Equal(string.Empty, m.Push("OP and more"));
        Assert.True(m.Stopped);
        Assert.Equal(string.Empty, m.Push("later"));
        Assert.Equal(string.Empty, m.Flush());
    }

    [Fact]
    public void HeldBackText_IsReleasedWhenItDiverges()
    {
        var m = new StopSequenceMatcher(["STOP"]);
        Assert.Equal("a", m.Push("aST"));
        Assert.Equal("STx", m.Push("x"));
        Assert.False(m.Stopped);
    }

    [Fact]
    public void HeldBackText_IsReleasedAtTheEnd()
    {
        var m = new StopSequenceMatcher(["\n\n"]);
        Assert.Equal("line", m.Push("line\n"));
        Assert.Equal("\n", m.Flush());
    }

    [Fact]
    public void EarliestOfSeveralStops_Wins()
    {
        var m = new StopSequenceMatcher(["world", "lo w"]);
        Assert.Equal("Hel", m.Push("Hello world"));
    }

    [Fact]
    public void NoStops_PassesEverythingThrough()
    {
        var m = new StopSequenceMatcher(["", ""]);
        Assert.Equal("abc", m.Push("abc"));
    }

    [Fact]
    public void StopInsideOnePiece_CutsIt()
    {
        var m = new StopSequenceMatcher(["的"]);
        Assert.Equal("中文", m.Push("中文的结束"));
        Assert.True(m.Stopped);
    }
}
