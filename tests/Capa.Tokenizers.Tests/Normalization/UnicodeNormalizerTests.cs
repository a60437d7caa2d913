using Capa.Tokenizers.Normalization;

namespace Capa.Tokenizers.Tests.Normalization;

public sealed class UnicodeNormalizerTests
{
    [Theory]
    [InlineData("e\u0301", "\u00E9")]
    [InlineData("a\u0308o\u0308u\u0308", "\u00E4\u00F6\u00FC")]
    [InlineData("\u1100\u1161\u11A8", "\uAC01")] // Hangul L V T compose to one syllable
    [InlineData("q\u0307\u0323", "q\u0323\u0307")] // canonical reordering, no composite exists
    [InlineData("\u1E0B\u0323", "\u1E0D\u0307")] // d + dot above + dot below: dot below composes first
    [InlineData("\u0958", "\u0915\u093C")] // composition exclusion stays decomposed
    [InlineData("\uFB01", "\uFB01")] // compatibility character untouched by NFC
    public void Nfc(string input, string expected) => Assert.Equal(expected, UnicodeNormalizer.Normalize(input, UnicodeForm.Nfc));

    [Theory]
    [InlineData("\uFB01", "fi")]
    [InlineData("\u00BD", "1\u20442")]
    [InlineData("\uFF21\uFF22", "AB")]
    [InlineData("\u3000", " ")]
    [InlineData("\u2460", "1")]
    public void Nfkc(string input, string expected) => Assert.Equal(expected, UnicodeNormalizer.Normalize(input, UnicodeForm.Nfkc));

    [Theory]
    [InlineData("\u00E9", "e\u0301")]
    [InlineData("\uAC01", "\u1100\u1161\u11A8")]
    public void Nfd(string input, string expected) => Assert.Equal(expected, UnicodeNormalizer.Normalize(input, UnicodeForm.Nfd));

    [Fact]
    public void SupplementaryCharacters_Decompose()
    {
        // U+1D15E MUSICAL SYMBOL HALF NOTE = U+1D157 U+1D165, excluded from composition.
        Assert.Equal("\U0001D157\U0001D165", UnicodeNormalizer.Normalize("\U0001D15E", UnicodeForm.Nfc));
        Assert.Equal("😀", UnicodeNormalizer.Normalize("😀", UnicodeForm.Nfc));
    }

    [Fact]
    public void StableText_IsReturnedAsIs()
    {
        string text = "plain ASCII and 中文 and 😀";
        Assert.Same(text, UnicodeNormalizer.Normalize(text, UnicodeForm.Nfc));
    }
}
