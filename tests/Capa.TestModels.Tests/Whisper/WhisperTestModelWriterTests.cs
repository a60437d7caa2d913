using System.Text.Json;
using Capa.TestModels;
using Capa.TestModels.Whisper;
using Capa.Tokenizers;
using Microsoft.ML.OnnxRuntime;

namespace Capa.TestModels.Tests.Whisper;

public sealed class WhisperTestModelWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "capa-whisper-writer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Write_ProducesTheOnnxCommunityLayoutWithRealIoNames()
    {
        TestModelResult result = WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        Assert.Equal(
            ["config.json", "generation_config.json", "onnx/decoder_model_merged.onnx", "onnx/encoder_model.onnx", "preprocessor_config.json",
             "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
            result.Files);

        using (var encoder = new InferenceSession(Path.Combine(_dir, "onnx", "encoder_model.onnx")))
        {
            Assert.Equal(["input_features"], encoder.InputMetadata.Keys);
            Assert.Equal(["last_hidden_state"], encoder.OutputMetadata.Keys);
        }

        using var decoder = new InferenceSession(Path.Combine(_dir, "onnx", "decoder_model_merged.onnx"));
        string[] expectedInputs = ["input_ids", "encoder_hidden_states",
            .. Enumerable.Range(0, 2).SelectMany(i => new[] { $"past_key_values.{i}.decoder.key", $"past_key_values.{i}.decoder.value", $"past_key_values.{i}.encoder.key", $"past_key_values.{i}.encoder.value" }),
            "use_cache_branch"];
        Assert.Equal(expectedInputs, decoder.InputMetadata.Keys);
        Assert.Equal("logits", decoder.OutputMetadata.Keys.First());
        Assert.Contains("present.1.encoder.value", decoder.OutputMetadata.Keys);
        Assert.DoesNotContain(decoder.OutputMetadata.Keys, k => k.StartsWith("cross_attentions", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_WithCrossAttentions_AddsOneOutputPerDecoderLayer_AndLeavesTheWeightsAlone()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec { CrossAttentions = true, Seed = 3 }, _dir);
        using var decoder = new InferenceSession(Path.Combine(_dir, "onnx", "decoder_model_merged.onnx"));
        // After logits and the presents, as the *_timestamped exports list them.
        Assert.Equal(["cross_attentions.0", "cross_attentions.1"], decoder.OutputMetadata.Keys.Skip(1 + (4 * 2)));
        Assert.Equal([-1, 4, -1, -1], decoder.OutputMetadata["cross_attentions.0"].Dimensions);

        string plain = _dir + "-plain";
        try
        {
            WhisperTestModelWriter.Write(new WhisperTestModelSpec { Seed = 3 }, plain);
            Assert.Equal(File.ReadAllBytes(Path.Combine(plain, "onnx", "encoder_model.onnx")), File.ReadAllBytes(Path.Combine(_dir, "onnx", "encoder_model.onnx")));
            Assert.Equal(File.ReadAllBytes(Path.Combine(plain, "generation_config.json")), File.ReadAllBytes(Path.Combine(_dir, "generation_config.json")));
            using JsonDocument generation = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_dir, "generation_config.json")));
            Assert.NotEmpty(generation.RootElement.GetProperty("alignment_heads").EnumerateArray());
        }
        finally
        {
            Directory.Delete(plain, recursive: true);
        }
    }

    [Fact]
    public void Write_TokenizerAndGenerationConfigAgree()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), _dir);
        HfTokenizer tokenizer = HfTokenizer.FromFolder(_dir);
        using JsonDocument generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "generation_config.json")));
        JsonElement root = generation.RootElement;

        Assert.Equal(99, root.GetProperty("lang_to_id").EnumerateObject().Count());
        foreach (JsonProperty language in root.GetProperty("lang_to_id").EnumerateObject())
        {
            Assert.Equal(language.Value.GetInt32(), tokenizer.TokenToId(language.Name));
        }

        int noTimestamps = root.GetProperty("no_timestamps_token_id").GetInt32();
        Assert.Equal(noTimestamps, tokenizer.TokenToId("<|notimestamps|>"));
        Assert.Equal(noTimestamps + 1, tokenizer.TokenToId("<|0.00|>"));
        Assert.Equal(noTimestamps + 1501, tokenizer.TokenToId("<|30.00|>"));
        Assert.Equal(tokenizer.VocabSize, noTimestamps + 1502);
        Assert.Equal(root.GetProperty("task_to_id").GetProperty("transcribe").GetInt32(), tokenizer.TokenToId("<|transcribe|>"));
        Assert.Equal(tokenizer.TokenToId("<|startoftranscript|>"), root.GetProperty("decoder_start_token_id").GetInt32());
        Assert.Equal([tokenizer.Encode(" ").Single(), tokenizer.TokenToId("<|endoftext|>")!.Value],
            root.GetProperty("begin_suppress_tokens").EnumerateArray().Select(e => e.GetInt32()));
        int[] suppress = [.. root.GetProperty("suppress_tokens").EnumerateArray().Select(e => e.GetInt32())];
        Assert.Contains(tokenizer.Encode(" -")[0], suppress);
        Assert.Contains(tokenizer.TokenToId("<|startofprev|>")!.Value, suppress);
        Assert.Equal("Hello 世界", tokenizer.Decode(tokenizer.Encode("Hello 世界")));
    }

    [Fact]
    public void Write_IsDeterministic()
    {
        WhisperTestModelWriter.Write(new WhisperTestModelSpec { Seed = 3 }, _dir);
        string other = _dir + "-2";
        try
        {
            WhisperTestModelWriter.Write(new WhisperTestModelSpec { Seed = 3 }, other);
            foreach (string file in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories))
            {
                Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(other, Path.GetRelativePath(_dir, file))));
            }
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }
}
