using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

public sealed class TestModelWhisperTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-testmodel-whisper-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CrossAttentions_IsRecordedInTheConfig_AndOnlyForWhisper()
    {
        var target = Path.Combine(_directory, "whisper");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), target, "--arch", "whisper", "--size", "tiny", "--cross-attentions");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(target, "onnx", "decoder_model_merged.onnx")));
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(target, "config.json"))))
        {
            Assert.True(config.RootElement.GetProperty("capa_test_model").GetProperty("cross_attentions").GetBoolean());
        }

        var (refused, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "qwen"), "--arch", "qwen2", "--cross-attentions");
        Assert.NotEqual(0, refused);
        Assert.False(Directory.Exists(Path.Combine(_directory, "qwen", "onnx")));
    }
}
