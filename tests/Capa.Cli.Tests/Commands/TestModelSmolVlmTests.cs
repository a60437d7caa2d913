using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

public sealed class TestModelSmolVlmTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-testmodel-smolvlm-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Smolvlm_writes_the_three_graphs_and_the_processor_configs()
    {
        var target = Path.Combine(_directory, "smolvlm");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", "smolvlm", "--size", "tiny", "--seed", "5");
        Assert.True(exit == 0, output);
        foreach (var file in new[]
        {
            "onnx/vision_encoder.onnx", "onnx/embed_tokens.onnx", "onnx/decoder_model_merged.onnx", "config.json", "generation_config.json",
            "preprocessor_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json",
        })
        {
            Assert.True(File.Exists(Path.Combine(target, file)), file);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config.json")));
        Assert.Equal("idefics3", config.RootElement.GetProperty("model_type").GetString());

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "x"), "--arch", "smolvlm", "--size", "0.5b");
        Assert.NotEqual(0, refused);
        Assert.False(Directory.Exists(Path.Combine(_directory, "x", "onnx")));
    }
}
