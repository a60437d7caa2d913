using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Media.Codecs;
using Capa.Media.Tests;
using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa speak</c> against the real server and its espeak-ng voice.</summary>
public sealed class SpeakCommandTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("capa-cli-speak-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;
    private readonly TempStateDirectory _state = new();

    public async Task InitializeAsync()
    {
        _app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], GetEnvironmentVariable = _ => null, StateDirectory = _state.Path },
            builder => builder.Logging.ClearProviders());
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [RequiresToolsFact("espeak-ng", "ffmpeg")]
    public async Task Writes_the_tutorials_greeting_as_mp3()
    {
        var path = Path.Combine(_directory, "hello.mp3");
        var (exit, output) = await CommandHarness.RunAsync(SpeakCommand.Create(), "你好，世界。Hello world.", "-o", path, "--base-url", _baseUrl);

        Assert.True(exit == 0, output);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 2000);

        // An MPEG audio frame sync (no ID3 tag is written).
        Assert.Equal(0xFF, bytes[0]);
        Assert.Equal(0xE0, bytes[1] & 0xE0);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Takes_voice_format_and_speed()
    {
        var normal = Path.Combine(_directory, "normal.wav");
        var fast = Path.Combine(_directory, "fast.pcm");
        var (exit1, output1) = await CommandHarness.RunAsync(SpeakCommand.Create(), "Good morning, everyone.", "-o", normal, "--voice", "onyx", "--base-url", _baseUrl);
        var (exit2, output2) = await CommandHarness.RunAsync(SpeakCommand.Create(), "Good morning, everyone.", "-o", fast, "--voice", "onyx", "--format", "pcm", "--speed", "2", "--base-url", _baseUrl);

        Assert.True(exit1 == 0, output1);
        Assert.True(exit2 == 0, output2);
        var wav = await File.ReadAllBytesAsync(normal);
        Assert.Equal("RIFF"u8.ToArray(), wav[..4]);
        var pcm = await File.ReadAllBytesAsync(fast);
        Assert.InRange((double)pcm.Length / (wav.Length - 44), 0.4, 0.65);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task A_bad_speed_fails_the_command()
    {
        var (exit, output) = await CommandHarness.RunAsync(SpeakCommand.Create(), "Hi", "-o", Path.Combine(_directory, "x.mp3"), "--speed", "9", "--base-url", _baseUrl);
        Assert.Equal(1, exit);
        Assert.False(File.Exists(Path.Combine(_directory, "x.mp3")), output);
    }

    [Theory]
    [InlineData(null, "a.mp3", AudioFormat.Mp3)]
    [InlineData(null, "a.ogg", AudioFormat.Opus)]
    [InlineData(null, "a.FLAC", AudioFormat.Flac)]
    [InlineData(null, "a.wav", AudioFormat.Wav)]
    [InlineData(null, "a.bin", AudioFormat.Mp3)]
    [InlineData(null, null, AudioFormat.Mp3)]
    [InlineData("aac", "a.mp3", AudioFormat.Aac)]
    public void Chooses_the_format_from_the_option_then_the_extension(string? format, string? path, AudioFormat expected)
    {
        Assert.Equal(expected, SpeakCommand.ChooseFormat(format, path));
    }
}
