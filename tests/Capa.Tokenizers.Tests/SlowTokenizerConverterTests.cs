namespace Capa.Tokenizers.Tests;

public sealed class SlowTokenizerConverterTests
{
    [Fact]
    public void Gpt2Files_BecomeAByteLevelTokenizer()
    {
        string dir = Directory.CreateTempSubdirectory("capa-tok-gpt2").FullName;
        try
        {
            var vocab = new Dictionary<string, int>();
            for (int b = 0; b < 256; b++)
            {
                vocab[Capa.Tokenizers.Text.ByteLevelAlphabet.Encode((byte)b).ToString()] = b;
            }

            vocab["Ġh"] = 256;
            vocab["Ġhi"] = 257;
            vocab["<|endoftext|>"] = 258;
            File.WriteAllText(Path.Combine(dir, "vocab.json"), System.Text.Json.JsonSerializer.Serialize(vocab));
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "#version: 0.2\nĠ h\nĠh i\n");
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"tokenizer_class":"GPT2Tokenizer","eos_token":"<|endoftext|>","added_tokens_decoder":{"258":{"content":"<|endoftext|>","special":true}}}""");

            var t = HfTokenizer.FromFolder(dir);
            Assert.Equal([(int)'a', 257, 258], t.Encode("a hi<|endoftext|>"));
            Assert.Equal("a hi", t.Decode([(int)'a', 257, 258], skipSpecialTokens: true));
            Assert.Equal(new SpecialToken("<|endoftext|>", 258), t.EosToken);
            Assert.True(t.IsSpecial(258));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MalformedFiles_AreFormatErrors()
    {
        string dir = Directory.CreateTempSubdirectory("capa-tok-bad").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "vocab.json"), "{\"a\": 0,");
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "");
            Assert.Throws<FormatException>(() => HfTokenizer.FromFolder(dir));
            File.WriteAllText(Path.Combine(dir, "vocab.json"), "{\"a\": 0}");
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "a b c\n");
            Assert.Throws<FormatException>(() => HfTokenizer.FromFolder(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void UnknownTokenizerClass_IsRefused()
    {
        string dir = Directory.CreateTempSubdirectory("capa-tok-bert").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "vocab.json"), "{}");
            File.WriteAllText(Path.Combine(dir, "merges.txt"), "");
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"tokenizer_class":"BertTokenizer"}""");
            var e = Assert.Throws<NotSupportedException>(() => SlowTokenizerConverter.ConvertFolder(dir));
            Assert.Contains("BertTokenizer", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
