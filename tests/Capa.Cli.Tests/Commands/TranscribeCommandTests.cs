using System.Text.RegularExpressions;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Media.Audio;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa transcribe</c> against the real server serving <c>capa-whisper-tiny</c> from a fresh store.</summary>
public sealed partial class TranscribeCommandTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("capa-cli-transcribe-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;
    private readonly TempStateDirectory _state = new();

    public async Task InitializeAsync()
    {
        string models = Path.Combine(_dir, "models");
        _app = CapaServer.Build(new CapaServerOptions { Urls = ["http://127.0.0.1:0"], ModelsDirectory = models, GetEnvironmentVariable = _ => null, StateDirectory = _state.Path }, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = models, IntraOpThreads = 1 });
        });
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _state.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Srt_IsPrintedAsSubRip()
    {
        string wav = Path.Combine(_dir, "tone.wav");
        var samples = new float[16000 * 2];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = 0.3f * MathF.Sin(2 * MathF.PI * 300 * i / 16000f);
        }

        await File.WriteAllBytesAsync(wav, WavFile.Write(new PcmAudio(16000, samples)));
        var (exit, output) = await CommandHarness.RunAsync(TranscribeCommand.Create(), wav, "--format", "srt", "--language", "en", "--base-url", _baseUrl);
        Assert.True(exit == 0, output);
        Assert.Matches(Srt(), output);
    }

    [Fact]
    public async Task UnsupportedFile_FailsWithExitCode1()
    {
        string text = Path.Combine(_dir, "notes.txt");
        await File.WriteAllTextAsync(text, "not audio");
        var (exit, output) = await CommandHarness.RunAsync(TranscribeCommand.Create(), text, "--base-url", _baseUrl);
        // The runner prints OpenAI's message ("Invalid file format. Supported formats: [...]") on the process's standard error.
        Assert.True(exit == 1, output);
    }

    [GeneratedRegex(@"\A(\d+\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n[^\n]+\n\n)*\n?\z")]
    private static partial Regex Srt();
}
