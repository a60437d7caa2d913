using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Tests.Text;

public sealed class ByteLevelAlphabetTests
{
    [Fact]
    public void KnownCharacters()
    {
        Assert.Equal('Ġ', ByteLevelAlphabet.Encode((byte)' '));
        Assert.Equal('Ċ', ByteLevelAlphabet.Encode((byte)'\n'));
        Assert.Equal('A', ByteLevelAlphabet.Encode((byte)'A'));
        Assert.Equal("ä¸Ń", ByteLevelAlphabet.EncodeText("中"));
    }

    [Fact]
    public void RoundTripsEveryByte()
    {
        var seen = new HashSet<char>();
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.Encode((byte)b);
            Assert.True(seen.Add(c));
            Assert.True(ByteLevelAlphabet.TryDecode(c, out byte back));
            Assert.Equal(b, back);
        }
    }

    [Fact]
    public void TokenOutsideAlphabet_ContributesItsOwnUtf8()
    {
        var bytes = new List<byte>();
        ByteLevelAlphabet.AppendBytes("中", bytes);
        Assert.Equal("中"u8.ToArray(), bytes);
    }
}
