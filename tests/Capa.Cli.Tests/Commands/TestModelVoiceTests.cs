using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Media.Audio;
using Capa.Media.Tests;
using Capa.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary>
/// <c>capa testmodel --arch kokoro|piper</c> writes voices in the published layouts, and a server whose store holds
/// them speaks with them through <c>capa speak</c>.
/// </summary>
public sealed class TestModelVoiceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-cli-voices-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Writes_a_Kokoro_folder_and_a_Piper_voice_with_their_files()
    {
        var kokoro = Path.Combine(_directory, "kokoro");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), kokoro, "--arch", "kokoro");
        Assert.True(exit == 0, output);
        foreach (var file in new[] { "onnx/model.onnx", "voices/af_heart.bin", "tokenizer.json", "tokenizer_config.json", "config.json" })
        {
            Assert.True(File.Exists(Path.Combine(kokoro, file)), $"{file} is missing");
        }

        Assert.Equal(510 * 256 * 4, new FileInfo(Path.Combine(kokoro, "voices", "af_heart.bin")).Length);

        var piper = Path.Combine(_directory, "piper");
        (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), piper, "--arch", "piper");
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(piper, "en_US-test-medium.onnx")));
        Assert.True(File.Exists(Path.Combine(piper, "en_US-test-medium.onnx.json")));

        (exit, _) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(_directory, "x"), "--arch", "kokoro", "--size", "0.5b");
        Assert.NotEqual(0, exit);
        Assert.False(Directory.Exists(Path.Combine(_directory, "x")), "an unknown size must write nothing");
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Capa_speak_uses_a_Kokoro_voice_from_the_store()
    {
        var store = Path.Combine(_directory, "store");
        var (exit, output) = await CommandHarness.RunAsync(TestModelCommand.Create(), Path.Combine(store, "capa", "kokoro-tiny"), "--arch", "kokoro");
        Assert.True(exit == 0, output);

        var app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], ModelsDirectory = store, StateDirectory = Path.Combine(_directory, "state"), GetEnvironmentVariable = _ => null },
            builder => builder.Logging.ClearProviders());
        await using (app)
        {
            await app.StartAsync();
            var baseUrl = CapaServer.GetAddresses(app).First().TrimEnd('/') + "/v1";
            var path = Path.Combine(_directory, "hello.wav");
            (exit, output) = await CommandHarness.RunAsync(SpeakCommand.Create(), "Hello world.", "-o", path, "--voice", "af_heart", "--format", "wav", "--base-url", baseUrl);
            Assert.True(exit == 0, output);
            var audio = WavFile.Read(await File.ReadAllBytesAsync(path));
            Assert.Equal(24_000, audio.SampleRate);
            Assert.True(audio.Rms() > 0.01);

            // The same words by espeak-ng's own model differ: the Kokoro voice spoke.
            var espeakPath = Path.Combine(_directory, "espeak.wav");
            (exit, output) = await CommandHarness.RunAsync(SpeakCommand.Create(), "Hello world.", "-o", espeakPath, "--voice", "alloy", "--format", "wav", "--base-url", baseUrl, "--model", "espeak-ng");
            Assert.True(exit == 0, output);
            Assert.NotEqual(await File.ReadAllBytesAsync(path), await File.ReadAllBytesAsync(espeakPath));
            await app.StopAsync();
        }
    }
}
