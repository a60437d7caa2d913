using System.Text;
using System.Text.Json;
using Capa.Tokenizers.WordPiece;

namespace Capa.Tokenizers.Tests.WordPiece;

/// <summary>
/// The WordPiece tokenizer reads text a piece at a time: pieces give the ids the whole text gives, and a text far past a
/// limit is refused after work in proportion to the limit.
/// </summary>
public sealed class WordPieceLimitTests
{
    private static WordPieceTokenizer Create(int maxCharsPerWord = 100)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
        {
            vocab[token] = vocab.Count;
        }

        foreach (var token in new[] { "the", "fox", "cafe", "deja", "vu", "is", "a", "an", "life", "on", "mars", "game", "ab", "abc" })
        {
            vocab[token] = vocab.Count;
        }

        for (var c = 'a'; c <= 'z'; c++)
        {
            vocab.TryAdd(c.ToString(), vocab.Count);
            vocab.TryAdd("##" + c, vocab.Count);
        }

        foreach (var c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~。，？！、“”—火星上有生命吗英雄联盟是一款游戏")
        {
            vocab.TryAdd(c.ToString(), vocab.Count);
        }

        var json = new
        {
            normalizer = new { type = "BertNormalizer", clean_text = true, handle_chinese_chars = true, strip_accents = (bool?)null, lowercase = true },
            pre_tokenizer = new { type = "BertPreTokenizer" },
            post_processor = new { type = "BertProcessing", sep = new object[] { "[SEP]", 3 }, cls = new object[] { "[CLS]", 2 } },
            added_tokens = new[] { new { id = 4, content = "[MASK]" } },
            model = new { type = "WordPiece", unk_token = "[UNK]", continuing_subword_prefix = "##", max_input_chars_per_word = maxCharsPerWord, vocab },
        };
        return WordPieceTokenizer.FromJson(JsonSerializer.Serialize(json));
    }

    // The ids of the text as one string, word by word, the way the tokenizer read it before it read in pieces: the
    // whole text normalized, split into words, each word looked up alone.
    private static int[] WholeText(WordPieceTokenizer tokenizer, string text)
    {
        var ids = new List<int> { 2 };
        foreach (var word in WordPieceTokenizer.PreTokenize(tokenizer.Normalize(text)))
        {
            ids.AddRange(tokenizer.Encode(word, addSpecialTokens: false));
        }

        ids.Add(3);
        return [.. ids];
    }

    [Fact]
    public void ALongText_ReadInPieces_GivesTheIdsOfTheWholeText()
    {
        var tokenizer = Create(maxCharsPerWord: 40);
        var random = new Random(7);
        string[] parts =
        [
            "The fox ", "Café déjà vu, ", "e\u0301\u0323", "火星上有生命吗？", "英雄联盟是一款游戏。", "  \t\n", "abcabcabc",
            "a\u0000b\u200Bc", "ＡＢＣ", "\u1FEFx", "\U0001F600", "Ω\u0345\u0313", ",.;", new string('z', 60), "ﬁ",
        ];
        for (var round = 0; round < 20; round++)
        {
            var text = new StringBuilder();
            while (text.Length < 60_000)
            {
                text.Append(parts[random.Next(parts.Length)]);
                if (random.Next(50) == 0)
                {
                    // A long stretch without ASCII: pieces must end at a character that normalizes alone.
                    text.Append(string.Concat(Enumerable.Repeat("é\u0301火", 5000)));
                }
            }

            var s = text.ToString();
            Assert.Equal(WholeText(tokenizer, s), tokenizer.Encode(s, addSpecialTokens: true));
        }
    }

    [Fact]
    public void AddedTokens_AreMatchedInTheRawTextBetweenPieces()
    {
        var tokenizer = Create();
        var text = string.Concat(Enumerable.Repeat("the fox [MASK] is a game, ", 2000)) + "[MASK]";
        var ids = tokenizer.Encode(text, addSpecialTokens: true);
        Assert.Equal(2001, ids.Count(id => id == 4));
        Assert.Equal(2, ids[0]);
        Assert.Equal(3, ids[^1]);
        Assert.Equal(4, ids[^2]);
    }

    [Theory]
    [InlineData("Is there life on Mars? 火星上有生命吗？ ")]
    [InlineData("                                   \n")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("é\u0301火")]
    public void ATextFarPastTheLimit_StopsAfterWorkInProportionToTheLimit(string filler)
    {
        var tokenizer = Create();
        var text = new StringBuilder().Insert(0, filler, (10 * 1024 * 1024) / filler.Length).ToString();
        var before = tokenizer.NormalizedChars;
        var ids = tokenizer.Encode(text, addSpecialTokens: true, maxTokens: 512, out var complete);
        var read = tokenizer.NormalizedChars - before;

        if (filler.Trim().Length == 0 || filler.StartsWith('a'))
        {
            // Whitespace is no token and one endless word is one: all of it is read, and it fits.
            Assert.True(complete);
            Assert.True(ids.Length <= 3);
        }
        else
        {
            Assert.False(complete);
            Assert.InRange(ids.Length, 513, 513 + 2 + 100);
            Assert.True(read < 64 * 1024, $"{read} characters were normalized to find 512 tokens");
        }
    }

    [Fact]
    public void ATextWithinTheLimit_IsComplete()
    {
        var tokenizer = Create();
        var ids = tokenizer.Encode("the fox is a game", addSpecialTokens: true, maxTokens: 7, out var complete);
        Assert.True(complete);
        Assert.Equal(tokenizer.Encode("the fox is a game"), ids);
        tokenizer.Encode("the fox is a game", addSpecialTokens: true, maxTokens: 5, out complete);
        Assert.False(complete);
    }
}
