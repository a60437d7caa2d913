using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Tests.Text;

public sealed class TokenizerRegexTests
{
    private static List<string> Pieces(string pattern, string text) =>
        [.. TokenizerRegex.FromOniguruma(pattern).Matches(text).Select(m => text.Substring(m.Start, m.Length))];

    [Fact]
    public void SupplementaryCodePoints_AreOneCharacterEach()
    {
        // An emoji may be the optional prefix of a letter run, as on a code-point engine.
        Assert.Equal(["😀abc"], Pieces(SlowTokenizerConverter.Qwen2Pattern, "😀abc"));
        // A supplementary letter is \p{L}; a supplementary digit is \p{N}.
        Assert.Equal(["𠀀𠀁"], Pieces(@"\p{L}+", "𠀀𠀁"));
        Assert.Equal(["𝟏", "𝟐"], Pieces(@"\p{N}", "𝟏𝟐"));
        Assert.Equal(["👨‍👩‍👧"], Pieces(@"[^\s\p{L}\p{N}]+", "👨‍👩‍👧"));
    }

    [Fact]
    public void InlineCaseInsensitiveGroup_FoldsAsciiOnly()
    {
        Assert.Equal(["'S", "'T", "'Re", "'LL"], Pieces("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "'S'T'Re'LL"));
        Assert.Empty(Pieces("(?i:'s)", "'\u017F")); // LONG S is not folded
        Assert.Empty(Pieces("(?i:k)", "\u212A")); // nor KELVIN SIGN
        Assert.Equal(["S"], Pieces("(?i:s)|x", "S")); // the group closes
        Assert.Empty(Pieces("(?i:s)|x", "X"));
    }

    [Fact]
    public void OnigurumaSyntax_IsTranslated()
    {
        Assert.Equal(["A"], Pieces(@"\x{41}", "A"));
        Assert.Equal(["aF"], Pieces(@"\h+", "aFg"));
        Assert.Equal(["aaa"], Pieces("a++", "aaa"));
        Assert.Equal(["123", "4"], Pieces(@"\p{N}{1,3}", "1234"));
    }

    [Fact]
    public void Whitespace_LookaheadLeavesLastSpaceForNextWord()
    {
        Assert.Equal(["a", "  ", " b"], Pieces(ByteLevelPreTokenizerPattern, "a   b"));
    }

    [Fact]
    public void BadPattern_IsAClearError()
    {
        var e = Assert.Throws<FormatException>(() => TokenizerRegex.FromOniguruma("(unclosed"));
        Assert.Contains("(unclosed", e.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => TokenizerRegex.FromOniguruma(@"\p{L"));
        Assert.Throws<FormatException>(() => TokenizerRegex.FromOniguruma(@"[\p{L"));
        Assert.Throws<FormatException>(() => TokenizerRegex.FromOniguruma("[abc"));
        Assert.Throws<FormatException>(() => TokenizerRegex.FromOniguruma(@"\x{41"));
    }

    private const string ByteLevelPreTokenizerPattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
}
