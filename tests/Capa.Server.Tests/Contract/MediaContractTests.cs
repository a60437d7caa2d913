using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Audio;
using Capa.Server.Tests.Infrastructure;
using ImageFixture = Capa.Server.Tests.Images.ImageServerFixture;

namespace Capa.Server.Tests.Contract;

/// <summary>Server-sent event blocks: each <c>data:</c> payload of a body.</summary>
internal static class SseBlocks
{
    public static List<string> Data(string body) =>
        body.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..])
            .ToList();
}

/// <summary>Image generation, one and streamed, checked against OpenAI's spec.</summary>
public sealed class ImagesContractTests(ImageFixture fixture) : IClassFixture<ImageFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    private async Task<string> GenerateAsync(string json, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await fixture.Server.Http.PostAsync("/v1/images/generations", SseTestReader.Json(json), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, body);
        return body;
    }

    [SkippableFact]
    public async Task Dalle_urls_b64_and_gpt_image_answers_match_ImagesResponse()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        OpenApiContract.AssertValid("ImagesResponse", await GenerateAsync("""{"model":"dall-e-3","prompt":"一只猫","size":"1024x1024","quality":"standard","n":1}"""));
        OpenApiContract.AssertValid("ImagesResponse", await GenerateAsync("""{"model":"dall-e-2","prompt":"a red bicycle","size":"256x256","response_format":"b64_json"}"""));
        OpenApiContract.AssertValid("ImagesResponse", await GenerateAsync("""{"model":"gpt-image-1","prompt":"a cat in a hat","size":"1024x1024","quality":"low","output_format":"webp","seed":3}"""));
    }

    [SkippableFact]
    public async Task Each_streamed_image_event_matches_its_ImageGenStreamEvent_member()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var events = SseBlocks.Data(await GenerateAsync("""{"model":"gpt-image-1","prompt":"a fox","quality":"high","stream":true,"partial_images":2,"size":"1024x1024","seed":5}"""));
        Assert.Equal(3, events.Count);
        foreach (var data in events)
        {
            var type = JsonDocument.Parse(data).RootElement.GetProperty("type").GetString()!;
            var member = OpenApiContract.MemberForType("ImageGenStreamEvent", type);
            Assert.True(member is not null, $"The spec's ImageGenStreamEvent has no member of type {type}.");
            OpenApiContract.AssertValid(member, data);
        }
    }

    [SkippableFact]
    public async Task Image_errors_match_ErrorResponse()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        OpenApiContract.AssertValid("ErrorResponse", await GenerateAsync("""{"model":"dall-e-3","prompt":"x","n":2}""", HttpStatusCode.BadRequest));
        OpenApiContract.AssertValid("ErrorResponse", await GenerateAsync("""{"model":"dall-e-2","prompt":"x","size":"100x100"}""", HttpStatusCode.BadRequest));
    }
}

/// <summary>Speech as server-sent events, checked against OpenAI's spec.</summary>
public sealed class SpeechContractTests(SpeechServerFixture fixture) : IClassFixture<SpeechServerFixture>
{
    [SkippableFact]
    public async Task Each_speech_event_matches_its_CreateSpeechResponseStreamEvent_member()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        Skip.If(SpeechFixtures.MissingTool is not null, $"{SpeechFixtures.MissingTool} is not installed (Debian: apt-get install espeak-ng ffmpeg).");
        using var response = await SpeechServers.PostAsync(fixture.Server, """{"model":"gpt-4o-mini-tts","input":"第一句。Second sentence.","voice":"sage","response_format":"pcm","stream_format":"sse"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = SseBlocks.Data(await response.Content.ReadAsStringAsync());
        Assert.True(events.Count >= 2);
        foreach (var data in events)
        {
            var type = JsonDocument.Parse(data).RootElement.GetProperty("type").GetString()!;
            var member = OpenApiContract.MemberForType("CreateSpeechResponseStreamEvent", type);
            Assert.True(member is not null, $"The spec's CreateSpeechResponseStreamEvent has no member of type {type}.");
            OpenApiContract.AssertValid(member, data);
        }
    }
}

/// <summary>Transcriptions and translations, each JSON shape and the stream, checked against OpenAI's spec.</summary>
public sealed class TranscriptionContractTests(TranscriptionServerFixture fixture) : IClassFixture<TranscriptionServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(5)).Token;

    private async Task<string> PostAsync(string path, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(fixture.EnglishMp3);
        part.Headers.ContentType = new MediaTypeHeaderValue("audio/mpeg");
        form.Add(part, "file", "speech.mp3");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value, Encoding.UTF8), name);
        }

        using var response = await fixture.Server.Http.PostAsync(path, form, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    private static void Require()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        Skip.If(SpeechFixtures.MissingTool is not null, $"{SpeechFixtures.MissingTool} is not installed (Debian: apt-get install espeak-ng ffmpeg).");
    }

    [SkippableFact]
    public async Task Json_and_verbose_json_match_their_schemas()
    {
        Require();
        OpenApiContract.AssertValid("CreateTranscriptionResponseJson", await PostAsync("/v1/audio/transcriptions", ("model", "whisper-1"), ("language", "en")));
        OpenApiContract.AssertValid("CreateTranscriptionResponseVerboseJson", await PostAsync("/v1/audio/transcriptions", ("model", "whisper-1"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "segment")));
        OpenApiContract.AssertValid("CreateTranslationResponseJson", await PostAsync("/v1/audio/translations", ("model", "whisper-1")));
        OpenApiContract.AssertValid("CreateTranslationResponseVerboseJson", await PostAsync("/v1/audio/translations", ("model", "whisper-1"), ("response_format", "verbose_json")));
    }

    [SkippableFact]
    public async Task Each_streamed_transcript_event_matches_its_CreateTranscriptionResponseStreamEvent_member()
    {
        Require();
        var events = SseBlocks.Data(await PostAsync("/v1/audio/transcriptions", ("model", "gpt-4o-mini-transcribe"), ("stream", "true"), ("language", "en")));
        Assert.NotEmpty(events);
        foreach (var data in events)
        {
            var type = JsonDocument.Parse(data).RootElement.GetProperty("type").GetString()!;
            var member = OpenApiContract.MemberForType("CreateTranscriptionResponseStreamEvent", type);
            Assert.True(member is not null, $"The spec's CreateTranscriptionResponseStreamEvent has no member of type {type}.");
            OpenApiContract.AssertValid(member, data);
        }
    }
}
