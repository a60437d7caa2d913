using System.Text.Json;
using Capa.TestModels.Embeddings;
using Capa.TestModels.Tests;

namespace Capa.Engine.Embeddings.Tests;

/// <summary>A tiny random-weight BERT folder, written once for the class.</summary>
public sealed class TinyEncoderFolder : IDisposable
{
    public TinyEncoderFolder()
    {
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 5 }, Mean);
        BertEncoderWriter.Write(new BertEncoderSpec { Seed = 6, MeanPooling = false, Layers = 1 }, Cls);
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("capa-bert-").FullName;

    public string Mean => Path.Combine(Root, "tiny-bert-mean");

    public string Cls => Path.Combine(Root, "tiny-bert-cls");

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class SentenceEncoderTests(TinyEncoderFolder folders) : IClassFixture<TinyEncoderFolder>
{
    /// <summary>The seed tutorial's kind of text, Chinese, accents, emoji, punctuation, a long rare word.</summary>
    public static readonly string[] Corpus =
    [
        "The quick brown fox jumps over the lazy dog.",
        "英雄联盟是一款多人在线战术竞技游戏。",
        "Café déjà vu — naïve façade, ÀÉÎÕÜ!",
        "Emoji 😀👍🏽 and symbols ©®™ & <tags> [brackets] {braces}",
        "   leading and trailing spaces \t tabs \n newlines   ",
        "pneumonoultramicroscopicsilicovolcanoconiosis zyzzogeton",
        "You are a helpful assistant. Please answer the question below.",
        "x",
    ];

    [Fact]
    public void The_folder_loads_with_its_pooling_and_shapes()
    {
        using var mean = SentenceEncoder.Load(folders.Mean);
        using var cls = SentenceEncoder.Load(folders.Cls);
        Assert.Equal(SentencePooling.Mean, mean.Pooling);
        Assert.Equal(SentencePooling.Cls, cls.Pooling);
        Assert.Equal(32, mean.Dimensions);
        Assert.True(SentenceEncoder.IsEncoderFolder(folders.Mean));
        Assert.False(SentenceEncoder.IsEncoderFolder(folders.Root));
    }

    [Fact]
    public void Vectors_are_unit_length_deterministic_and_differ_between_texts()
    {
        using var encoder = SentenceEncoder.Load(folders.Mean);
        var first = encoder.Encode(Corpus);
        var second = encoder.Encode(Corpus);
        for (var i = 0; i < Corpus.Length; i++)
        {
            Assert.Equal(first[i], second[i]);
            Assert.Equal(1.0, Math.Sqrt(first[i].Sum(v => (double)v * v)), 4);
        }

        Assert.NotEqual(first[0], first[1]);
    }

    [Fact]
    public void Batched_inference_equals_one_at_a_time_within_1e5()
    {
        using var encoder = SentenceEncoder.Load(folders.Mean);
        EncoderAssertions.BatchedEqualsOneAtATime(encoder, Corpus);
    }

    [Fact]
    public void Inputs_longer_than_the_model_are_cut_and_still_end_with_sep()
    {
        using var encoder = SentenceEncoder.Load(folders.Mean);
        var longText = string.Join(' ', Enumerable.Repeat("model", 2000));
        var vector = encoder.Encode([longText])[0];
        Assert.Equal(32, vector.Length);
        Assert.True(encoder.Tokenize(longText).Length > encoder.MaxTokens);
    }

    [OracleTheory]
    [InlineData("mean")]
    [InlineData("cls")]
    public void Tokens_and_vectors_equal_transformers_js_feature_extraction(string pooling)
    {
        var folder = pooling == "mean" ? folders.Mean : folders.Cls;
        var texts = Path.Combine(folders.Root, "texts-" + pooling + ".json");
        File.WriteAllText(texts, JsonSerializer.Serialize(Corpus));
        using var oracle = Oracle.RunScript("embed.mjs", "--model", folder, "--pooling", pooling, "--texts", texts);
        using var encoder = SentenceEncoder.Load(folder);
        EncoderAssertions.EqualsOracle(oracle, encoder, Corpus);
    }
}
