using Capa.Engine.Speech.Text;

namespace Capa.Engine.Speech.Tests.Text;

public sealed class SentenceSplitterTests
{
    [Fact]
    public void Splits_Chinese_and_English_sentences()
    {
        Assert.Equal(["你好，世界。", "Hello world."], SentenceSplitter.Split("你好，世界。Hello world."));
        Assert.Equal(["One.", "Two!", "Three?!", "Four"], SentenceSplitter.Split("One. Two! Three?! Four"));
    }

    [Fact]
    public void Keeps_numbers_and_abbreviation_dots_inside_a_sentence()
    {
        Assert.Equal(["Pi is 3.14 today."], SentenceSplitter.Split("Pi is 3.14 today."));
    }

    [Fact]
    public void Line_breaks_end_sentences_and_punctuation_alone_is_dropped()
    {
        Assert.Equal(["Title", "Body text."], SentenceSplitter.Split("Title\n\n...\nBody text."));
        Assert.Empty(SentenceSplitter.Split(" ... !!! "));
    }

    [Fact]
    public void A_long_sentence_is_cut_at_a_pause()
    {
        var text = string.Join(", ", Enumerable.Repeat("a few words here", 80)) + ".";
        var pieces = SentenceSplitter.Split(text);
        Assert.True(pieces.Count > 1);
        Assert.All(pieces, p => Assert.True(p.Length <= SentenceSplitter.MaxPieceLength));
        Assert.Equal(text.Replace(" ", "", StringComparison.Ordinal), string.Concat(pieces).Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public void A_long_run_without_pauses_is_still_cut()
    {
        var text = new string('字', 1000);
        var pieces = SentenceSplitter.Split(text);
        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, p => Assert.True(p.Length <= SentenceSplitter.MaxPieceLength));
    }
}
