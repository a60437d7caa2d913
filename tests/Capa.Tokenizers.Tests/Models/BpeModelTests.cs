using System.Text.Json;
using Capa.Tokenizers.Models;

namespace Capa.Tokenizers.Tests.Models;

public sealed class BpeModelTests
{
    private static BpeModel Model(string[] vocab, (string, string)[] merges, BpeOptions? options = null)
    {
        var dict = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in vocab)
        {
            dict[token] = dict.Count;
        }

        return BpeModel.Create(dict, merges, options ?? new BpeOptions());
    }

    private static int[] Encode(BpeModel model, string word)
    {
        var ids = new List<int>();
        model.Encode(word, ids);
        return [.. ids];
    }

    [Fact]
    public void LowestRankMergesFirst_LeftmostOnTies()
    {
        var model = Model(["a", "b", "ab", "ba", "aba"], [("a", "b"), ("b", "a"), ("ab", "a")]);
        // "aba": "a b" (rank 0) beats "b a" (rank 1); then "ab a" (rank 2).
        Assert.Equal([4], Encode(model, "aba"));
        // "abab": both "a b" pairs merge (leftmost first), "ab ab" has no rank.
        Assert.Equal([2, 2], Encode(model, "abab"));
    }

    [Fact]
    public void IgnoreMerges_TakesWholeWordsFromTheVocabulary()
    {
        string[] vocab = ["a", "b", "c", "ab", "abc"];
        (string, string)[] merges = [("a", "b")];
        Assert.Equal([3, 2], Encode(Model(vocab, merges), "abc"));
        Assert.Equal([4], Encode(Model(vocab, merges, new BpeOptions { IgnoreMerges = true }), "abc"));
    }

    [Fact]
    public void ByteFallback_SpellsUnknownCharactersAsBytes()
    {
        var vocab = new List<string> { "<unk>", "a" };
        for (int b = 0; b < 256; b++)
        {
            vocab.Add(BpeModel.ByteTokenName((byte)b));
        }

        var model = Model([.. vocab], [], new BpeOptions { ByteFallback = true, UnkToken = "<unk>" });
        // 中 = E4 B8 AD
        Assert.Equal([1, 2 + 0xE4, 2 + 0xB8, 2 + 0xAD], Encode(model, "a中"));
    }

    [Fact]
    public void UnknownCharacters_BecomeUnk_FusedWhenAsked()
    {
        string[] vocab = ["<unk>", "a"];
        Assert.Equal([1, 0, 0, 1], Encode(Model(vocab, [], new BpeOptions { UnkToken = "<unk>" }), "axya"));
        Assert.Equal([1, 0, 1], Encode(Model(vocab, [], new BpeOptions { UnkToken = "<unk>", FuseUnk = true }), "axya"));
        Assert.Equal([1, 1], Encode(Model(vocab, []), "axya")); // no unk token: dropped
    }

    [Fact]
    public void ContinuingSubwordPrefixAndEndOfWordSuffix()
    {
        var model = Model(["a", "##b", "ab", "c</w>", "##c</w>"], [("a", "##b")], new BpeOptions { ContinuingSubwordPrefix = "##" });
        Assert.Equal([2], Encode(model, "ab"));
        var suffix = Model(["a", "b", "c</w>", "ac</w>"], [("a", "c</w>")], new BpeOptions { EndOfWordSuffix = "</w>" });
        Assert.Equal([3], Encode(suffix, "ac"));
    }

    [Fact]
    public void LongWords_AreMergedCorrectly()
    {
        var model = Model(["a", "aa", "aaaa"], [("a", "a"), ("aa", "aa")]);
        string word = new('a', 4001);
        int[] ids = Encode(model, word);
        Assert.Equal(1001, ids.Length);
        Assert.All(ids[..1000], id => Assert.Equal(2, id));
        Assert.Equal(0, ids[^1]);
    }

    [Fact]
    public void MergesAsPairsOrStrings_AreEquivalent()
    {
        const string Strings = """{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}""";
        const string Pairs = """{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}""";
        using var s = JsonDocument.Parse(Strings);
        using var p = JsonDocument.Parse(Pairs);
        Assert.Equal([2], Encode(BpeModel.Create(s.RootElement), "ab"));
        Assert.Equal([2], Encode(BpeModel.Create(p.RootElement), "ab"));
    }

    [Fact]
    public void BadMerges_AreClearErrors()
    {
        Assert.Throws<FormatException>(() => Model(["a"], [("a", "zz")]));
        Assert.Throws<FormatException>(() => Model(["a", "b"], [("a", "b")])); // "ab" missing
        Assert.Throws<FormatException>(() => BpeModel.SplitMergeLine("abc"));
    }
}
