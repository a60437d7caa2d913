using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

public sealed class TestModelQwen2VlTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-testmodel-qwen2vl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Qwen2vl_writes_the_three_graphs_the_processor_config_and_the_chat_template()
    {
        var target = Path.Combine(_directory, "qwen2vl");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", "qwen2vl", "--size", "tiny", "--seed", "5");
        Assert.True(exit == 0, output);
        foreach (var file in new[]
        {
            "onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/decoder_model_merged.onnx", "config.json", "generation_config.json",
            "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.json",
        })
        {
            Assert.True(File.Exists(Path.Combine(target, file)), file);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("qwen2_vl", config.RootElement.GetProperty("model_type").GetString());
        Assert.Equal("mrope", config.RootElement.GetProperty("rope_scaling").GetProperty("type").GetString());
        using var preprocessor = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "preprocessor_config.json")));
        Assert.Equal(14, preprocessor.RootElement.GetProperty("patch_size").GetInt32());
        Assert.Contains("<|image_pad|>", File.ReadAllText(Path.Combine(target, "chat_template.json")), StringComparison.Ordinal);

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "x"), "--arch", "qwen2vl", "--size", "0.5b");
        Assert.NotEqual(0, refused);
        Assert.False(Directory.Exists(Path.Combine(_directory, "x", "onnx")));
    }

    [Theory]
    [InlineData("qwen2.5vl")]
    [InlineData("qwen25vl")]
    public async Task Qwen25vl_writes_a_qwen2_5_vl_folder_with_text_config_and_its_processor_class(string arch)
    {
        var target = Path.Combine(_directory, arch);
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", arch, "--size", "tiny", "--seed", "5");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(target, "onnx", "vision_encoder.onnx")));

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("qwen2_5_vl", config.RootElement.GetProperty("model_type").GetString());
        Assert.Equal("Qwen2_5_VLForConditionalGeneration", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.Equal("qwen2_5_vl_text", config.RootElement.GetProperty("text_config").GetProperty("model_type").GetString());
        Assert.False(config.RootElement.TryGetProperty("hidden_size", out _));
        using var preprocessor = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "preprocessor_config.json")));
        Assert.Equal("Qwen2_5_VLProcessor", preprocessor.RootElement.GetProperty("processor_class").GetString());

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "y"), "--arch", arch, "--size", "0.5b");
        Assert.NotEqual(0, refused);
    }
}
