using Capa.Models;
using Capa.Models.Config;

namespace Capa.Models.Tests;

public sealed class ModelFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "capa-folder-tests-" + Guid.NewGuid().ToString("N"));

    public ModelFolderTests()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "onnx"));
        Write("config.json", """{"model_type":"qwen2","vocab_size":151936,"hidden_size":896,"num_attention_heads":14,"num_key_value_heads":2,"num_hidden_layers":24,"max_position_embeddings":32768,"eos_token_id":151643,"bos_token_id":151643}""");
        Write("generation_config.json", """{"do_sample":true,"temperature":0.7,"top_p":0.8,"top_k":20,"eos_token_id":[151645,151643]}""");
        Write("tokenizer.json", "{}");
        Write("tokenizer_config.json", """{"chat_template":"{{ messages[0].content }}","eos_token":"<|im_end|>","bos_token":null}""");
        Write("onnx/model.onnx", "graph");
        Write("onnx/model_q4.onnx", "graph");
        Write("onnx/model_q4.onnx_data", "weights");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_dir, name), text);

    [Fact]
    public void Load_ReadsConfigs_PrefersQ4_AndListsExternalData()
    {
        var folder = ModelFolder.Load(_dir);
        Assert.Equal(ModelFamily.Qwen2, folder.Config.Family);
        Assert.Equal(151936, folder.Config.VocabSize);
        Assert.Equal(64, folder.Config.HeadDim);
        Assert.Equal(2, folder.Config.NumKeyValueHeads);
        Assert.Equal(32768, folder.Config.MaxContextLength);
        Assert.Equal(20, folder.Generation.TopK);
        Assert.Equal(0.7, folder.Generation.Temperature);
        Assert.Equal([151643, 151645], folder.EosTokenIds);
        Assert.Equal(ModelVariant.Q4, folder.Variant);
        Assert.Equal(["model_q4.onnx", "model_q4.onnx_data"], folder.OnnxFiles.Select(Path.GetFileName));
        Assert.Equal("{{ messages[0].content }}", folder.ChatTemplate);
        Assert.Equal("tokenizer_config.json", folder.ChatTemplateSource);
        Assert.Equal("<|im_end|>", folder.EosToken);
        Assert.Null(folder.BosToken);
        Assert.Equal([ModelVariant.Q4, ModelVariant.Fp32], ModelFolder.AvailableVariants(_dir));
    }

    [Fact]
    public void Load_TakesTheAskedVariant_OrNamesWhatIsPresent()
    {
        Assert.Equal(ModelVariant.Fp32, ModelFolder.Load(_dir, ModelVariant.Fp32).Variant);
        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(_dir, ModelVariant.Int8));
        Assert.Contains("no int8 variant", ex.Message, StringComparison.Ordinal);
        Assert.Contains("present: q4, fp32", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChatTemplate_FromJinjaFile_AndFromNamedList()
    {
        Write("tokenizer_config.json", """{"chat_template":[{"name":"tool_use","template":"T"},{"name":"default","template":"D"}]}""");
        Assert.Equal("D", ModelFolder.Load(_dir).ChatTemplate);
        Write("tokenizer_config.json", """{"eos_token":{"content":"</s>","lstrip":false}}""");
        Write("chat_template.jinja", "J");
        var folder = ModelFolder.Load(_dir);
        Assert.Equal("J", folder.ChatTemplate);
        Assert.Equal("chat_template.jinja", folder.ChatTemplateSource);
        Assert.Equal("</s>", folder.EosToken);
    }

    [Theory]
    [InlineData("llama", ModelFamily.Llama)]
    [InlineData("qwen3", ModelFamily.Qwen3)]
    [InlineData("phi3", ModelFamily.Phi3)]
    [InlineData("gemma2", ModelFamily.Gemma2)]
    [InlineData("gemma3_text", ModelFamily.Gemma3)]
    public void SupportedFamilies_Load(string modelType, ModelFamily family)
    {
        Write("config.json", $$"""{"model_type":"{{modelType}}","vocab_size":100,"max_position_embeddings":64,"num_attention_heads":2,"hidden_size":8}""");
        Assert.Equal(family, ModelFolder.Load(_dir).Config.Family);
    }

    [Fact]
    public void UnsupportedModelType_IsRefusedNamingIt()
    {
        Write("config.json", """{"model_type":"mamba","vocab_size":100,"max_position_embeddings":64}""");
        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(_dir));
        Assert.Contains("'mamba'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("qwen2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config.json", "no config.json")]
    [InlineData("tokenizer.json", "no tokenizer")]
    public void MissingFiles_AreNamed(string file, string expected)
    {
        File.Delete(Path.Combine(_dir, file));
        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(_dir));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoOnnxGraph_IsNamed()
    {
        foreach (var f in Directory.GetFiles(Path.Combine(_dir, "onnx")))
        {
            File.Delete(f);
        }

        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(_dir));
        Assert.Contains("no ONNX decoder", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ broken", "not valid JSON")]
    [InlineData("""{"model_type":"qwen2","max_position_embeddings":64}""", "no vocab_size")]
    [InlineData("[1]", "JSON object")]
    public void BadConfig_IsExplained(string config, string expected)
    {
        Write("config.json", config);
        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(_dir));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFolder_IsNamed()
    {
        var ex = Assert.Throws<ModelFolderException>(() => ModelFolder.Load(Path.Combine(_dir, "nope")));
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }
}
