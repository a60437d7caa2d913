using System.Text.Json;
using Capa.Tokenizers.Normalization;

namespace Capa.Tokenizers.Tests.Normalization;

public sealed class NormalizerTests
{
    private static string Run(string json, string text)
    {
        using var doc = JsonDocument.Parse(json);
        return Normalizer.Create(doc.RootElement)!.Normalize(text);
    }

    [Theory]
    [InlineData("""{"type":"NFC"}""", "e\u0301", "\u00E9")]
    [InlineData("""{"type":"NFKC"}""", "\uFB01\u00B2", "fi2")]
    [InlineData("""{"type":"NFD"}""", "\u00E9", "e\u0301")]
    [InlineData("""{"type":"NFKD"}""", "\u00BD", "1\u20442")]
    [InlineData("""{"type":"Lowercase"}""", "HeLLo ÄÖ", "hello äö")]
    [InlineData("""{"type":"Prepend","prepend":"▁"}""", "hi", "▁hi")]
    [InlineData("""{"type":"Prepend","prepend":"▁"}""", "", "")]
    [InlineData("""{"type":"Replace","pattern":{"String":" "},"content":"▁"}""", "a b  c", "a▁b▁▁c")]
    [InlineData("""{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}""", "a \t\n b", "a b")]
    [InlineData("""{"type":"Strip","strip_left":true,"strip_right":false}""", "  x  ", "x  ")]
    [InlineData("""{"type":"StripAccents"}""", "e\u0301a", "ea")]
    [InlineData("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}""", "a b", "▁a▁b")]
    public void Normalizes(string json, string input, string expected) => Assert.Equal(expected, Run(json, input));

    [Fact]
    public void NullAndUnknown()
    {
        using var doc = JsonDocument.Parse("null");
        Assert.Null(Normalizer.Create(doc.RootElement));
        Assert.Throws<NotSupportedException>(() => Run("""{"type":"BertNormalizer"}""", "x"));
        Assert.Throws<FormatException>(() => Run("""{"type":"Prepend"}""", "x"));
        Assert.Throws<FormatException>(() => Run("""{"no_type":1}""", "x"));
    }
}
