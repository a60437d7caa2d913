using System.Text.Json;
using Capa.TestModels.Embeddings;
using Capa.TestModels.Tests;
using Capa.Tokenizers;

namespace Capa.Engine.Embeddings.Tests;

/// <summary>A tiny random-weight XLM-RoBERTa folder (Unigram tokenizer), written once for the class.</summary>
public sealed class TinyXlmRobertaFolder : IDisposable
{
    public TinyXlmRobertaFolder() => XlmRobertaEncoderWriter.Write(new BertEncoderSpec { Seed = 7, MaxPositions = 64 }, Path);

    public string Root { get; } = Directory.CreateTempSubdirectory("capa-xlmr-").FullName;

    public string Path => System.IO.Path.Combine(Root, "tiny-xlmr");

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class XlmRobertaEncoderTests(TinyXlmRobertaFolder folder) : IClassFixture<TinyXlmRobertaFolder>
{
    /// <summary>Chinese, English, accents, emoji, whitespace runs, the empty string, text that spells special tokens.</summary>
    public static readonly string[] Corpus =
    [
        .. SentenceEncoderTests.Corpus,
        "英雄联盟的比赛在世界各地举行，玩家可以选择不同的英雄。",
        "mixed 中文 and English in one sentence, with numbers 2023 and 3.14",
        "ｆｕｌｌｗｉｄｔｈ ＡＢＣ and ligatures ﬁ ﬂ, \u00A0no-break\u3000ideographic space",
        "a    run     of      spaces\n\n\nand\t\t\ttabs",
        "",
        "<s> the model </s> said <mask> and <unk>",
    ];

    [Fact]
    public void The_folder_loads_as_xlm_roberta_with_a_unigram_tokenizer()
    {
        Assert.True(SentenceEncoder.IsEncoderFolder(folder.Path));
        using var encoder = SentenceEncoder.Load(folder.Path);
        Assert.IsType<HfTokenizer>(encoder.Tokenizer);
        Assert.Equal(32, encoder.Dimensions);
        Assert.Equal(64, encoder.MaxTokens);
        Assert.Equal(SentencePooling.Mean, encoder.Pooling);
        var ids = encoder.Tokenize("The quick brown fox");
        Assert.Equal(0, ids[0]);
        Assert.Equal(2, ids[^1]);
        Assert.Equal([0, 2], encoder.Tokenize(string.Empty));
    }

    [Fact]
    public void Batched_inference_with_padding_equals_one_at_a_time_within_1e5()
    {
        using var encoder = SentenceEncoder.Load(folder.Path);
        foreach (var alone in EncoderAssertions.BatchedEqualsOneAtATime(encoder, Corpus))
        {
            Assert.Equal(1.0, Math.Sqrt(alone.Sum(v => (double)v * v)), 4);
        }
    }

    [Fact]
    public void A_text_past_the_model_is_refused_after_reading_past_the_limit_only()
    {
        using var encoder = SentenceEncoder.Load(folder.Path);
        var ids = encoder.Tokenize(string.Join(' ', Enumerable.Repeat("model", 5000)), encoder.MaxTokens, out var complete);
        Assert.False(complete);
        Assert.True(ids.Length > encoder.MaxTokens && ids.Length < encoder.MaxTokens + 8, $"{ids.Length} ids");
        Assert.Equal(32, encoder.Encode([string.Join(' ', Enumerable.Repeat("model", 500))])[0].Length);
    }

    [OracleFact]
    public void Tokens_and_vectors_equal_transformers_js_feature_extraction()
    {
        var texts = Path.Combine(folder.Root, "texts.json");
        File.WriteAllText(texts, JsonSerializer.Serialize(Corpus));
        using var oracle = Oracle.RunScript("embed.mjs", "--model", folder.Path, "--pooling", "mean", "--texts", texts);
        using var encoder = SentenceEncoder.Load(folder.Path);
        EncoderAssertions.EqualsOracle(oracle, encoder, Corpus);
    }
}
