using System.Text.Json;
using Capa.Tokenizers.PreTokenizers;

namespace Capa.Tokenizers.Tests.PreTokenizers;

public sealed class PreTokenizerTests
{
    private static List<string> Run(string json, string text, bool atTextStart = true)
    {
        using var doc = JsonDocument.Parse(json);
        var preTokenizer = PreTokenizer.Create(doc.RootElement)!;
        return preTokenizer.PreTokenize([text], atTextStart);
    }

    [Theory]
    [InlineData("Isolated", "a|-|b|-|-|c")]
    [InlineData("Removed", "a|b|c")]
    [InlineData("MergedWithPrevious", "a-|b-|-|c")]
    [InlineData("MergedWithNext", "a|-b|-|-c")]
    [InlineData("Contiguous", "a|-|b|--|c")]
    public void SplitBehaviors(string behavior, string expected)
    {
        string json = $$"""{"type":"Split","pattern":{"String":"-"},"behavior":"{{behavior}}","invert":false}""";
        Assert.Equal(expected.Split('|'), Run(json, "a-b--c"));
    }

    [Fact]
    public void SplitInverted_KeepsTheMatches()
    {
        Assert.Equal(["ab", "cd"], Run("""{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Removed","invert":true}""", "ab, cd"));
    }

    [Fact]
    public void ByteLevel_WithAndWithoutRegex()
    {
        Assert.Equal(["Hello", "Ġworld", "!", "ĊĊ"], Run("""{"type":"ByteLevel","add_prefix_space":false,"use_regex":true}""", "Hello world!\n\n"));
        Assert.Equal(["ĠHelloĠworld"], Run("""{"type":"ByteLevel","add_prefix_space":true,"use_regex":false}""", "Hello world"));
    }

    [Fact]
    public void Metaspace_PrependSchemes()
    {
        const string First = """{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""";
        Assert.Equal(["▁a▁b"], Run(First, "a b"));
        Assert.Equal(["a▁b"], Run(First, "a b", atTextStart: false));
        Assert.Equal(["▁a", "▁b"], Run("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}""", "a b", atTextStart: false));
        Assert.Equal(["a▁b"], Run("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":false}""", "a b"));
        Assert.Equal(["▁a", "▁b"], Run("""{"type":"Metaspace","replacement":"▁","add_prefix_space":true}""", "a b"));
    }

    [Fact]
    public void Digits()
    {
        Assert.Equal(["abc", "123", "d"], Run("""{"type":"Digits","individual_digits":false}""", "abc123d"));
        Assert.Equal(["abc", "1", "2", "3", "d"], Run("""{"type":"Digits","individual_digits":true}""", "abc123d"));
    }

    [Fact]
    public void Sequence_AppliesStepsInOrder()
    {
        const string Json = """{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}""";
        Assert.Equal(["a", "1", "2", "Ġb"], Run(Json, "a12 b"));
    }

    [Fact]
    public void UnknownType_IsAClearError()
    {
        var e = Assert.Throws<NotSupportedException>(() => Run("""{"type":"Nope"}""", "x"));
        Assert.Contains("Nope", e.Message, StringComparison.Ordinal);
    }
}
