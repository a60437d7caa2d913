using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Audio;

/// <summary>
/// Speech and transcription resolve through the model router: a local model first, else the configured upstream (the
/// request passed on with an alias's target as its model), else OpenAI's 404 model_not_found.
/// </summary>
public sealed class AudioRoutingTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _server = await CapaTestServer.StartAsync(
            new CapaServerOptions
            {
                Upstreams =
                [
                    new UpstreamOptions
                    {
                        Name = "cloud",
                        BaseUrl = new Uri(_upstream.BaseUrl + "/v1"),
                        ApiKey = FakeUpstream.ApiKey,
                        Models = ["cloud-tts", "whisper-1", "tts-1"],
                    },
                ],
                Aliases = new Dictionary<string, string> { ["my-tts"] = "cloud-tts", ["my-whisper"] = "whisper-1" },
            },
            builder => builder.Services.AddSingleton(new SpeechOptions()));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Speech_for_a_model_only_the_upstream_serves_goes_there_with_the_alias_rewritten()
    {
        using var response = await PostSpeechAsync("""{"model":"my-tts","voice":"alloy","input":"你好","speed":1.5}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("/v1/audio/speech", echo.GetProperty("path").GetString());
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, echo.GetProperty("authorization").GetString());
        var sent = JsonDocument.Parse(Convert.FromBase64String(echo.GetProperty("body").GetString()!)).RootElement;
        Assert.Equal("cloud-tts", sent.GetProperty("model").GetString());
        Assert.Equal("你好", sent.GetProperty("input").GetString());
        Assert.Equal(1.5, sent.GetProperty("speed").GetDouble());
    }

    [Fact]
    public async Task Speech_for_an_OpenAI_id_a_local_voice_serves_stays_local()
    {
        if (!Capa.Media.Processes.ExecutableLocator.TryFind("espeak-ng", out _))
        {
            return; // without espeak-ng there is no local voice, and the upstream takes tts-1 (the next test's case)
        }

        using var response = await PostSpeechAsync("""{"model":"tts-1","voice":"alloy","input":"Hi.","response_format":"wav"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Speech_for_a_model_nothing_serves_is_404_model_not_found()
    {
        using var response = await PostSpeechAsync("""{"model":"no-such-voice-model","voice":"alloy","input":"Hi."}""");
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
    }

    [Fact]
    public async Task Transcription_without_a_local_model_goes_upstream_as_multipart_with_the_alias_rewritten_and_the_file_intact()
    {
        var file = new byte[5000];
        new Random(3).NextBytes(file);
        "RIFF"u8.CopyTo(file);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("my-whisper"), "model");
        form.Add(new StringContent("fr"), "language");
        form.Add(new ByteArrayContent(file) { Headers = { ContentType = new MediaTypeHeaderValue("audio/wav") } }, "file", "bonjour.wav");
        using var response = await _server.Http.PostAsync("/v1/audio/transcriptions", form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("/v1/audio/transcriptions", echo.GetProperty("path").GetString());
        Assert.StartsWith("multipart/form-data", echo.GetProperty("content_type").GetString(), StringComparison.Ordinal);
        var body = Convert.FromBase64String(echo.GetProperty("body").GetString()!);
        var text = Encoding.Latin1.GetString(body);
        Assert.Contains("name=model\r\n\r\nwhisper-1\r\n", text.Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("name=language\r\n\r\nfr\r\n", text.Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("filename=bonjour.wav", text.Replace("\"", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(body.AsSpan().IndexOf(file) >= 0, "the file's bytes did not reach the upstream unchanged");
    }

    [Fact]
    public async Task Transcription_for_a_model_nothing_serves_is_404_model_not_found()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("gpt-4o-transcribe"), "model");
        form.Add(new ByteArrayContent("RIFF0000WAVE"u8.ToArray()), "file", "a.wav");
        using var response = await _server.Http.PostAsync("/v1/audio/transcriptions", form);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
    }

    private Task<HttpResponseMessage> PostSpeechAsync(string json) =>
        _server.Http.PostAsync("/v1/audio/speech", new StringContent(json, Encoding.UTF8, "application/json"));
}
