using System.Text.Json;
using Capa.Tokenizers.Decoders;

namespace Capa.Tokenizers.Tests.Decoders;

public sealed class DecoderTests
{
    private static string Run(string json, params string[] tokens)
    {
        using var doc = JsonDocument.Parse(json);
        return string.Concat(Decoder.Create(doc.RootElement)!.DecodeChain([.. tokens], _ => false));
    }

    private static byte[] Middle(string json, string token)
    {
        using var doc = JsonDocument.Parse(json);
        var piece = new TokenPiece { Text = token };
        bool fused = false;
        Decoder.Create(doc.RootElement)!.MiddleBytes(ref piece, ref fused);
        return piece.Bytes ?? System.Text.Encoding.UTF8.GetBytes(piece.Text!);
    }

    private const string Llama2 = """
        {"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}
        """;

    [Fact]
    public void ByteLevel_JoinsBytesAcrossTokens()
    {
        // 中 = E4 B8 AD spread over two tokens.
        Assert.Equal("中 x", Run("""{"type":"ByteLevel"}""", "ä¸", "Ń", "Ġx"));
    }

    [Fact]
    public void SentencePieceChain_StripsOnlyTheFirstSpace()
    {
        Assert.Equal("Hello  world", Run(Llama2, "▁Hello", "▁▁world"));
        Assert.Equal("中", Run(Llama2, "<0xE4>", "<0xB8>", "<0xAD>"));
    }

    [Fact]
    public void ByteFallback_InvalidBytesBecomeOneReplacementEach()
    {
        Assert.Equal("\uFFFD\uFFFDa", Run("""{"type":"ByteFallback"}""", "<0xE4>", "<0xB8>", "a"));
    }

    [Fact]
    public void Metaspace_DropsMarksOfTheFirstToken()
    {
        Assert.Equal("Hey friend", Run("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"}""", "▁Hey", "▁friend"));
        Assert.Equal(" Hey friend", Run("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"never"}""", "▁Hey", "▁friend"));
    }

    [Fact]
    public void Strip_BothEnds()
    {
        Assert.Equal("abx", Run("""{"type":"Strip","content":"x","start":2,"stop":1}""", "xxabxx"));
        Assert.Equal("a", Run("""{"type":"Strip","content":"x","start":5,"stop":5}""", "xax"));
    }

    [Fact]
    public void MiddleBytes_ForEachFamily()
    {
        Assert.Equal(" Hello"u8.ToArray(), Middle(Llama2, "▁Hello"));
        Assert.Equal(new byte[] { 0xE4 }, Middle(Llama2, "<0xE4>"));
        Assert.Equal(new byte[] { 0xE4, 0xB8 }, Middle("""{"type":"ByteLevel"}""", "ä¸"));
        Assert.Equal(" x"u8.ToArray(), Middle("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"}""", "▁x"));
    }
}
