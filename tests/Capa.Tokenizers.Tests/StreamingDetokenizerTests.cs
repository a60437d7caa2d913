using System.Text;

namespace Capa.Tokenizers.Tests;

public sealed class StreamingDetokenizerTests
{
    private static readonly HfTokenizer Legacy = HfTokenizer.FromJson(Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig());
    private static readonly HfTokenizer Llama3 = HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config());

    private static List<string> Stream(HfTokenizer tokenizer, IEnumerable<int> ids, bool skipSpecial = true)
    {
        var detokenizer = tokenizer.CreateStreamingDetokenizer(skipSpecial);
        var pieces = ids.Select(detokenizer.Append).ToList();
        pieces.Add(detokenizer.Flush());
        return pieces;
    }

    [Theory]
    [InlineData("hello 世界 😀 and 👨‍👩‍👧 done")]
    [InlineData("中")]
    [InlineData("a , b . c ! I 'm")]
    public void ByteLevel_NeverEmitsHalfACharacter_AndConcatenatesToDecode(string text)
    {
        int[] ids = Llama3.Encode(text);
        var pieces = Stream(Llama3, ids);
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));
        Assert.Equal(Llama3.Decode(ids, skipSpecialTokens: true), string.Concat(pieces));
    }

    [Fact]
    public void ByteLevel_HoldsBytesUntilTheCharacterIsComplete()
    {
        // 中 = E4 B8 AD, one byte token each.
        int[] ids = [.. "中"u8.ToArray().Select(b => Llama3.TokenToId(Capa.Tokenizers.Text.ByteLevelAlphabet.Encode(b).ToString())!.Value)];
        var detokenizer = Llama3.CreateStreamingDetokenizer();
        Assert.Equal(string.Empty, detokenizer.Append(ids[0]));
        Assert.Equal(string.Empty, detokenizer.Append(ids[1]));
        Assert.Equal("中", detokenizer.Append(ids[2]));
        Assert.Equal(string.Empty, detokenizer.Flush());
    }

    [Fact]
    public void SentencePiece_FirstTokenLosesItsSpaceLikeDecode()
    {
        int[] ids = Legacy.Encode("hello world 世界", addSpecialTokens: true);
        var pieces = Stream(Legacy, ids);
        Assert.Equal("hello", pieces[1]);
        Assert.Equal(" world", pieces[2]);
        Assert.Equal("hello world 世界", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));
    }

    [Fact]
    public void SpecialTokens_SkippedOrKept()
    {
        int[] ids = [1, .. Legacy.Encode("hello"), 2];
        Assert.Equal("hello", string.Concat(Stream(Legacy, ids)));
        Assert.Equal(Legacy.Decode(ids), string.Concat(Stream(Legacy, ids, skipSpecial: false)));
        Assert.Equal("<s> hello</s>", Legacy.Decode(ids));
    }

    [Fact]
    public void InvalidBytes_AreReleasedEventually()
    {
        int lone = Llama3.TokenToId(Capa.Tokenizers.Text.ByteLevelAlphabet.Encode(0xE4).ToString())!.Value;
        var detokenizer = Llama3.CreateStreamingDetokenizer();
        var text = new StringBuilder();
        text.Append(detokenizer.Append(lone));
        foreach (int id in Llama3.Encode(" ok"))
        {
            text.Append(detokenizer.Append(id));
        }

        Assert.Equal("\uFFFD ok", text.ToString());
        Assert.Equal(string.Empty, detokenizer.Flush());

        // Flush releases an unfinished character as U+FFFD.
        Assert.Equal(string.Empty, detokenizer.Append(lone));
        Assert.Equal("\uFFFD", detokenizer.Flush());
    }

    [Fact]
    public void RandomSegmentations_ConcatenateToDecode()
    {
        // Encodings of random text in which random tokens are spelled out as byte tokens: characters then arrive
        // split across tokens at every possible point.
        var rng = new Random(12345);
        foreach (var tokenizer in new[] { Llama3, Legacy })
        {
            foreach (string text in Oracle.OracleCorpus.Random(150, seed: 99))
            {
                var ids = new List<int>();
                foreach (int id in tokenizer.Encode(text))
                {
                    var bytes = tokenizer.GetTokenBytes(id);
                    if (bytes.IsEmpty || rng.Next(2) == 0)
                    {
                        ids.Add(id);
                        continue;
                    }

                    foreach (byte b in bytes.Span)
                    {
                        string name = tokenizer == Llama3 ? Capa.Tokenizers.Text.ByteLevelAlphabet.Encode(b).ToString() : $"<0x{b:X2}>";
                        ids.Add(tokenizer.TokenToId(name)!.Value);
                    }
                }

                var pieces = Stream(tokenizer, ids);
                Assert.Equal(tokenizer.Decode(ids.ToArray(), skipSpecialTokens: true), string.Concat(pieces));
                Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));
            }
        }
    }
}
