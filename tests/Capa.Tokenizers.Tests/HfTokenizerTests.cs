using System.Text;

namespace Capa.Tokenizers.Tests;

public sealed class HfTokenizerTests
{
    private static readonly HfTokenizer Legacy = HfTokenizer.FromJson(Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig());
    private static readonly HfTokenizer Metaspace = HfTokenizer.FromJson(Fixtures.SentencePieceMetaspace(), Fixtures.SentencePieceConfig());
    private static readonly HfTokenizer Llama3 = HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config());

    private static string[] Tokens(HfTokenizer t, string text, bool addSpecial = false) =>
        [.. t.Encode(text, addSpecial).Select(id => t.IdToToken(id)!)];

    [Fact]
    public void SentencePiece_PrependsMarkAndMerges()
    {
        Assert.Equal(["▁hello", "▁world"], Tokens(Legacy, "hello world"));
        Assert.Equal(["<s>", "▁hello"], Tokens(Legacy, "hello", addSpecial: true));
        Assert.Equal(["▁你好"], Tokens(Legacy, "你好"));
    }

    [Fact]
    public void SentencePiece_ByteFallbackForUnknownCharacters()
    {
        // 世 = E4 B8 96 is not in the vocabulary.
        Assert.Equal(["▁", "<0xE4>", "<0xB8>", "<0x96>"], Tokens(Legacy, "世"));
        Assert.Equal("世", Legacy.Decode(Legacy.Encode("世")));
    }

    [Fact]
    public void SentencePiece_SpecialTokensInTextAreSingleIds()
    {
        Assert.Equal(["<s>", "▁hello", "</s>"], Tokens(Legacy, "<s>hello</s>"));
        // The Metaspace layout with prepend_scheme "first" adds no mark after a leading special token.
        Assert.Equal(["<s>", "h", "e", "llo"], Tokens(Metaspace, "<s>hello"));
    }

    [Fact]
    public void SentencePiece_DecodeStripsTheFirstSpaceOnly()
    {
        int[] ids = Legacy.Encode("hello world");
        Assert.Equal("hello world", Legacy.Decode(ids));
        // As the reference: Strip removes the space at the start of the text, which begins with "<s>" here.
        Assert.Equal("<s> hello world</s>", Legacy.Decode([1, .. ids, 2]));
        Assert.Equal("hello world", Legacy.Decode([1, .. ids, 2], skipSpecialTokens: true));
    }

    [Fact]
    public void ByteLevel_IgnoreMergesAndBosTemplate()
    {
        Assert.Equal(["abc"], Tokens(Llama3, "abc"));
        var withoutIgnore = HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(ignoreMerges: false), Fixtures.Llama3Config());
        Assert.Equal(["ab", "c"], Tokens(withoutIgnore, "abc"));
        Assert.Equal(["<|begin_of_text|>", "hello"], Tokens(Llama3, "hello", addSpecial: true));
        Assert.Equal(["123", "4"], Tokens(Llama3, "1234"));
    }

    [Fact]
    public void ByteLevel_CleanUpTokenizationSpacesFromConfig()
    {
        // Llama 3's tokenizer_config asks for clean-up: " ," loses its space on decode.
        int[] ids = Llama3.Encode("a , b .");
        Assert.Equal("a, b.", Llama3.Decode(ids));
    }

    [Fact]
    public void SpecialTokenInfo_FromConfig()
    {
        Assert.Equal(new SpecialToken("<s>", 1), Legacy.BosToken);
        Assert.Equal(new SpecialToken("</s>", 2), Legacy.EosToken);
        Assert.Equal(new SpecialToken("<unk>", 0), Legacy.UnkToken);
        Assert.Null(Legacy.PadToken);
        Assert.Equal(new SpecialToken("<|eot_id|>", 301), Llama3.EosToken);
        Assert.True(Legacy.IsSpecial(1));
        Assert.False(Legacy.IsSpecial(300));
        Assert.False(Legacy.IsSpecial(-1));
    }

    [Fact]
    public void VocabularyLookups()
    {
        Assert.Equal(302, Llama3.VocabSize);
        Assert.Equal(300, Llama3.TokenToId("<|begin_of_text|>"));
        Assert.Null(Llama3.TokenToId("not a token"));
        Assert.Null(Llama3.IdToToken(290)); // a hole between the vocabulary and the added tokens
        Assert.Null(Llama3.IdToToken(302));
        Assert.Equal(259 + 33, Legacy.VocabSize);
    }

    [Fact]
    public void TokenBytes_AreWhatTheTokenAddsMidSequence()
    {
        Assert.Equal(" hello"u8.ToArray(), Legacy.GetTokenBytes(Legacy.TokenToId("▁hello")!.Value).ToArray());
        Assert.Equal(new byte[] { 0xE4 }, Legacy.GetTokenBytes(Legacy.TokenToId("<0xE4>")!.Value).ToArray());
        Assert.True(Legacy.GetTokenBytes(1).IsEmpty);
        Assert.Equal(" hello"u8.ToArray(), Llama3.GetTokenBytes(Llama3.TokenToId("Ġhello")!.Value).ToArray());
        Assert.True(Llama3.GetTokenBytes(300).IsEmpty);
        Assert.True(Llama3.GetTokenBytes(99_999).IsEmpty);
    }

    [Fact]
    public void TokenBytes_ConcatenateToTheDecodedText()
    {
        foreach (var (tokenizer, text) in new[] { (Llama3, "hello  wörld 中文 😀 123456"), (Legacy, "hello world 世界 😀") })
        {
            int[] ids = tokenizer.Encode(text);
            var bytes = new List<byte>();
            foreach (int id in ids)
            {
                bytes.AddRange(tokenizer.GetTokenBytes(id).ToArray());
            }

            // Mid-sequence bytes keep the SentencePiece leading space that decode strips at the start.
            string expected = tokenizer == Legacy ? " " + tokenizer.Decode(ids) : tokenizer.Decode(ids);
            Assert.Equal(expected, Encoding.UTF8.GetString([.. bytes]));
        }
    }

    [Fact]
    public void BadInput_IsAClearError()
    {
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("{not json"));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"normalizer":null}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"Unigram","vocab":[]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"Unigram","vocab":[["a",-1.0]]}}"""));
        Assert.Throws<NotSupportedException>(() => HfTokenizer.FromJson("""{"model":{"type":"WordLevel","vocab":{}}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"BPE","vocab":{"a":2147483647},"merges":[]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"BPE","vocab":{"a":"zero"},"merges":[]}}"""));
        Assert.Throws<FormatException>(() => HfTokenizer.FromJson("""{"model":{"type":"BPE","vocab":{"a":0}},"added_tokens":[{"content":"x"}]}"""));
        Assert.Throws<ArgumentNullException>(() => Llama3.Encode(null!));
        Assert.Throws<DirectoryNotFoundException>(() => HfTokenizer.FromFolder(Path.Combine(Path.GetTempPath(), "capa-no-such-folder-" + Guid.NewGuid())));
        string empty = Directory.CreateTempSubdirectory("capa-tok-empty").FullName;
        try
        {
            Assert.Throws<FileNotFoundException>(() => HfTokenizer.FromFolder(empty));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void Encode_IsStableAcrossCallsAndThreads()
    {
        string text = string.Concat(Enumerable.Repeat("hello  wörld 中文 😀 abc 123456\n", 200));
        int[] first = Llama3.Encode(text);
        int[][] results = new int[4][];
        Parallel.For(0, 4, i => results[i] = Llama3.Encode(text));
        Assert.All(results, r => Assert.Equal(first, r));
        Assert.Equal(text, Llama3.Decode(first));
    }
}
