using System.Text;
using System.Text.Json;
using Capa.TestModels;
using Capa.Templates;

namespace Capa.TestModels.Tests;

[Collection(TestModelCollection.Name)]
public sealed class TestModelWriterTests(TestModelFolders folders)
{
    private const string SeedQuestion = "谁获得了2022年英雄联盟S赛世界冠军？";

    [Theory]
    [MemberData(nameof(TestModelFolders.Archs), MemberType = typeof(TestModelFolders))]
    public void Writes_the_transformers_js_folder_layout(TestModelArch arch)
    {
        TestModelResult result = folders.Get(arch);

        Assert.Equal(
            ["config.json", "generation_config.json", "onnx/model.onnx", "onnx/model_int8.onnx", "onnx/model_q4.onnx",
             "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
            result.Files);
        foreach (string file in result.Files)
        {
            Assert.True(File.Exists(Path.Combine(result.Directory, file)), file);
        }

        // Tiny means a few MB: it is generated in many tests.
        Assert.InRange(result.TotalBytes, 1L << 20, 8L << 20);
    }

    [Theory]
    [InlineData(TestModelArch.Qwen2, "Qwen2ForCausalLM", "qwen2", "qwen2.5", true)]
    [InlineData(TestModelArch.Llama, "LlamaForCausalLM", "llama", "llama3.2", false)]
    [InlineData(TestModelArch.Phi3, "Phi3ForCausalLM", "phi3", "phi3.5", false)]
    [InlineData(TestModelArch.Gemma, "Gemma2ForCausalLM", "gemma2", "gemma2", true)]
    public void Config_and_tokenizer_files_carry_the_family_conventions(
        TestModelArch arch, string architecture, string modelType, string templateFamily, bool tied)
    {
        string dir = folders.Get(arch).Directory;
        using JsonDocument config = Read(dir, "config.json");
        using JsonDocument generation = Read(dir, "generation_config.json");
        using JsonDocument tokenizer = Read(dir, "tokenizer.json");
        using JsonDocument tokenizerConfig = Read(dir, "tokenizer_config.json");
        JsonElement c = config.RootElement;

        Assert.Equal(architecture, c.GetProperty("architectures")[0].GetString());
        Assert.Equal(modelType, c.GetProperty("model_type").GetString());
        Assert.Equal(64, c.GetProperty("hidden_size").GetInt32());
        Assert.Equal(4, c.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(2, c.GetProperty("num_key_value_heads").GetInt32());
        Assert.Equal(16, c.GetProperty("head_dim").GetInt32());
        Assert.Equal(2, c.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(tied, c.GetProperty("tie_word_embeddings").GetBoolean());
        foreach (string key in new[] { "intermediate_size", "max_position_embeddings", "rope_theta", "rms_norm_eps", "bos_token_id", "eos_token_id", "torch_dtype" })
        {
            Assert.True(c.TryGetProperty(key, out _), key);
        }

        // Every id the tokenizer defines has an embedding row; extra rows exist as in the real checkpoints.
        int tokenizerSize = c.GetProperty("capa_test_model").GetProperty("tokenizer_size").GetInt32();
        var added = tokenizer.RootElement.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(t => t.GetProperty("content").GetString()!, t => t.GetProperty("id").GetInt32());
        var vocab = tokenizer.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        var tokenOfId = new Dictionary<int, string>();
        foreach (var (content, id) in vocab.Concat(added))
        {
            Assert.True(tokenOfId.TryAdd(id, content) || tokenOfId[id] == content, $"id {id} names two tokens");
        }

        Assert.Equal(Enumerable.Range(0, tokenizerSize), tokenOfId.Keys.Order());
        Assert.True(c.GetProperty("vocab_size").GetInt32() >= tokenizerSize);

        JsonElement tc = tokenizerConfig.RootElement;
        Assert.Equal(KnownTemplates.Get(templateFamily), tc.GetProperty("chat_template").GetString());
        string eos = tc.GetProperty("eos_token").GetString()!;
        Assert.Contains(added[eos], generation.RootElement.GetProperty("eos_token_id").EnumerateArray().Select(e => e.GetInt32()));
        foreach (JsonProperty entry in tc.GetProperty("added_tokens_decoder").EnumerateObject())
        {
            Assert.Equal(added[entry.Value.GetProperty("content").GetString()!], int.Parse(entry.Name, System.Globalization.CultureInfo.InvariantCulture));
        }

        string[] specials = arch switch
        {
            TestModelArch.Qwen2 => ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            TestModelArch.Llama => ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
            TestModelArch.Phi3 => ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
            _ => ["<bos>", "<start_of_turn>", "<end_of_turn>"],
        };
        Assert.All(specials, s => Assert.Contains(s, added.Keys));
    }

    [Fact]
    public void Tokenizer_has_all_bytes_and_encodes_chinese_with_multi_byte_merges()
    {
        TestTokenizer tokenizer = TestTokenizer.For(TestModelFamily.For(TestModelArch.Qwen2));
        for (int b = 0; b < 256; b++)
        {
            Assert.Contains(ByteLevelBpe.ByteChar((byte)b).ToString(), tokenizer.Bpe.Tokens);
        }

        IReadOnlyList<int> ids = tokenizer.EncodeText(SeedQuestion);
        Assert.True(ids.Count * 3 < Encoding.UTF8.GetByteCount(SeedQuestion), $"{ids.Count} tokens for {Encoding.UTF8.GetByteCount(SeedQuestion)} bytes");
        Assert.InRange(tokenizer.Count, 2000, 4096);

        // Decoding the byte-level strings gives the text back.
        string decoded = DecodeByteLevel(string.Concat(ids.Select(id => tokenizer.Bpe.Tokens[id])));
        Assert.Equal(SeedQuestion, decoded);
    }

    [Fact]
    public void Same_arguments_give_identical_bytes_and_another_seed_other_weights()
    {
        string root = Path.Combine(Path.GetTempPath(), "capa-testmodel-det-" + Guid.NewGuid().ToString("N"));
        try
        {
            var spec = new TestModelSpec { Arch = TestModelArch.Phi3, Quants = [TestModelQuant.Fp32, TestModelQuant.Q4], Seed = 42 };
            TestModelResult a = TestModelWriter.Write(spec, Path.Combine(root, "a"));
            TestModelResult b = TestModelWriter.Write(spec, Path.Combine(root, "b"));
            TestModelResult c = TestModelWriter.Write(spec with { Seed = 43 }, Path.Combine(root, "c"));

            Assert.Equal(a.Files, b.Files);
            foreach (string file in a.Files)
            {
                Assert.True(File.ReadAllBytes(Path.Combine(a.Directory, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b.Directory, file))), file);
            }

            Assert.False(File.ReadAllBytes(Path.Combine(a.Directory, "onnx/model.onnx")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c.Directory, "onnx/model.onnx"))));
            Assert.False(File.ReadAllBytes(Path.Combine(a.Directory, "onnx/model_q4.onnx")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c.Directory, "onnx/model_q4.onnx"))));
            Assert.True(File.ReadAllBytes(Path.Combine(a.Directory, "tokenizer.json")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(c.Directory, "tokenizer.json"))));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Bad_specs_are_refused_with_a_clear_message()
    {
        string dir = Path.Combine(Path.GetTempPath(), "capa-testmodel-bad-" + Guid.NewGuid().ToString("N"));
        var none = Assert.Throws<ArgumentException>(() => TestModelWriter.Write(new TestModelSpec { Quants = [] }, dir));
        Assert.Contains("At least one weight format", none.Message, StringComparison.Ordinal);
        var twice = Assert.Throws<ArgumentException>(() => TestModelWriter.Write(new TestModelSpec { Quants = [TestModelQuant.Q4, TestModelQuant.Q4] }, dir));
        Assert.Contains("once", twice.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));

        Assert.Contains("Expected qwen2, llama, phi3 or gemma", Assert.Throws<ArgumentException>(() => TestModelSpec.ParseArch("gpt2")).Message, StringComparison.Ordinal);
        Assert.Contains("Expected tiny or 0.5b", Assert.Throws<ArgumentException>(() => TestModelSpec.ParseSize("7b")).Message, StringComparison.Ordinal);
        Assert.Contains("Expected fp32, int8 or q4", Assert.Throws<ArgumentException>(() => TestModelSpec.ParseQuant("fp16")).Message, StringComparison.Ordinal);
        Assert.Equal(TestModelArch.Gemma, TestModelSpec.ParseArch("Gemma2"));
        Assert.Equal(TestModelSize.HalfB, TestModelSpec.ParseSize("0.5b"));
    }

    [Fact]
    public void Size_half_b_has_qwen2_5_0_5b_shapes()
    {
        TestModelShapes s = TestModelShapes.Create(TestModelArch.Qwen2, TestModelSize.HalfB, 3000);
        Assert.Equal((24, 896, 14, 2, 64, 4864, 151_936), (s.Layers, s.Hidden, s.Heads, s.KvHeads, s.HeadDim, s.Intermediate, s.VocabSize));
        Assert.True(s.TiedEmbeddings);
    }

    private static JsonDocument Read(string dir, string file) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, file)));

    private static string DecodeByteLevel(string text)
    {
        var map = new Dictionary<char, byte>();
        for (int b = 0; b < 256; b++)
        {
            map[ByteLevelBpe.ByteChar((byte)b)] = (byte)b;
        }

        return Encoding.UTF8.GetString([.. text.Select(ch => map[ch])]);
    }
}
