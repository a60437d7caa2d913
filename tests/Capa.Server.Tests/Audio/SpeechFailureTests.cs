using System.Net;
using Capa.Engine.Speech.Espeak;
using Capa.Engine.Speech.Tests;
using Capa.Media.Codecs;
using Capa.Media.Tests;
using Capa.Server.Audio;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Audio;

/// <summary>A voice or encoder that hangs or dies: OpenAI's 500 without internals, no process left, the server still serving.</summary>
public sealed class SpeechFailureTests
{
    [Theory]
    [InlineData("hang")]
    [InlineData("die")]
    [InlineData("garbage")]
    public async Task A_failing_espeak_ng_gives_a_500_and_leaves_no_process(string behaviour)
    {
        using var fake = new FakeEspeak(behaviour);
        var options = new SpeechOptions
        {
            Espeak = new EspeakOptions { Executable = fake.Executable, Limits = EspeakOptions.Default.Limits with { Timeout = TimeSpan.FromSeconds(2) } },
        };
        await using var server = await SpeechServers.StartAsync(options);

        using var response = await SpeechServers.PostAsync(server, """{"model":"tts-1","input":"Hello world.","voice":"alloy","response_format":"pcm"}""");

        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.InternalServerError);
        Assert.Equal("The server had an error while processing your request. Sorry about that!", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.False(response.Headers.Contains(SpeechEndpoint.FingerprintHeader));
        Assert.NotEmpty(fake.RecordedPids());
        Assert.True(await MediaTools.AllGoneAsync(fake.RecordedPids()), "A process of the failed espeak-ng is still running.");

        // The server keeps serving.
        using var next = await SpeechServers.PostAsync(server, """{"model":"tts-1","input":"","voice":"alloy"}""");
        await ErrorAssert.IsOpenAIErrorAsync(next, HttpStatusCode.BadRequest, "empty_string");
    }

    [RequiresToolsTheory("espeak-ng")]
    [InlineData("hang")]
    [InlineData("die")]
    public async Task A_failing_ffmpeg_gives_a_500_and_leaves_no_process(string behaviour)
    {
        using var fake = new FakeFfmpeg(behaviour);
        var options = new SpeechOptions
        {
            Ffmpeg = new FfmpegOptions { Executable = fake.Executable, Limits = FfmpegOptions.Default.Limits with { Timeout = TimeSpan.FromSeconds(2) } },
        };
        await using var server = await SpeechServers.StartAsync(options);

        using var response = await SpeechServers.PostAsync(server, """{"model":"tts-1","input":"Hello world.","voice":"alloy","response_format":"mp3"}""");

        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("ffmpeg", error.GetProperty("message").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.NotEmpty(fake.RecordedPids());
        Assert.True(await MediaTools.AllGoneAsync(fake.RecordedPids()), "A process of the failed ffmpeg is still running.");

        // wav needs no ffmpeg: still served.
        using var wav = await SpeechServers.PostAsync(server, """{"model":"tts-1","input":"Hello world.","voice":"alloy","response_format":"wav"}""");
        Assert.Equal(HttpStatusCode.OK, wav.StatusCode);
    }

    [Fact]
    public async Task Without_espeak_ng_the_speech_models_are_not_found()
    {
        var options = new SpeechOptions { Espeak = new EspeakOptions { Executable = "/nonexistent/espeak-ng" } };
        await using var server = await SpeechServers.StartAsync(options);
        using var response = await SpeechServers.PostAsync(server, """{"model":"tts-1","input":"Hi","voice":"alloy"}""");
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
    }

    /// <summary>A stand-in ffmpeg that answers <c>-version</c> and then hangs or dies when asked to encode.</summary>
    private sealed class FakeFfmpeg : IDisposable
    {
        public FakeFfmpeg(string behaviour)
        {
            Directory = Path.Combine(Path.GetTempPath(), "capa-fake-ffmpeg-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(Directory);
            PidFile = Path.Combine(Directory, "pids");
            Executable = Path.Combine(Directory, "ffmpeg");
            var act = behaviour == "hang" ? "sleep 300 & echo $! >> \"$PIDS\"; sleep 300" : "echo 'Invalid data found' >&2; exit 1";
            File.WriteAllText(Executable, $$"""
                #!/bin/sh
                PIDS='{{PidFile}}'
                if [ "$2" = "-version" ]; then echo 'ffmpeg version fake Copyright (c) nobody'; exit 0; fi
                echo $$ >> "$PIDS"
                {{act}}

                """);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        public string Directory { get; }

        public string Executable { get; }

        public string PidFile { get; }

        public IReadOnlyList<int> RecordedPids() => File.Exists(PidFile)
            ? [.. File.ReadAllLines(PidFile).Where(l => l.Length > 0).Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))]
            : [];

        public void Dispose()
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
