using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Capa.Engine.Whisper;
using OpenAI.Audio;

namespace Capa.Server.Tests.Audio;

public sealed partial class TranscriptionsEndpointTests(TranscriptionServerFixture fixture) : IClassFixture<TranscriptionServerFixture>
{
    [RequiresSpeechToolsFact]
    public async Task Sdk_VerboseJson_HasOrderedSegmentsWithinTheProbedDuration()
    {
        AudioTranscription result = (await fixture.Audio().TranscribeAudioAsync(new MemoryStream(fixture.EnglishMp3), "speech.mp3",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "en" })).Value;

        // ffprobe's duration of the lossless source: an mp3's own header estimate includes the encoder's padding.
        double probed = await SpeechFixtures.ProbeDurationAsync(fixture.EnglishWav, "wav", fixture.Directory);
        Assert.InRange(result.Duration!.Value.TotalSeconds, probed - 0.05, probed + 0.05);
        Assert.Equal("english", result.Language);
        AssertSegments(result.Segments, result.Duration.Value.TotalSeconds);
    }

    [RequiresSpeechToolsFact]
    public async Task Sdk_Json_Text_Srt_Vtt_AreWellFormed()
    {
        AudioClient audio = fixture.Audio("gpt-4o-mini-transcribe");
        async Task<string> Text(AudioTranscriptionFormat format) =>
            (await audio.TranscribeAudioAsync(new MemoryStream(fixture.EnglishMp3), "speech.mp3", new AudioTranscriptionOptions { ResponseFormat = format, Language = "en" })).Value.Text;

        Assert.NotNull(await Text(AudioTranscriptionFormat.Simple));
        Assert.NotNull(await Text(AudioTranscriptionFormat.Text));
        string srt = await Text(AudioTranscriptionFormat.Srt);
        Assert.Matches(SrtDocument(), srt);
        string vtt = await Text(AudioTranscriptionFormat.Vtt);
        Assert.StartsWith("WEBVTT\n\n", vtt, StringComparison.Ordinal);
        Assert.Matches(VttDocument(), vtt);
    }

    [RequiresSpeechToolsFact]
    public async Task Sdk_Translate_AnswersInEnglish()
    {
        AudioTranslation result = (await fixture.Audio().TranslateAudioAsync(new MemoryStream(fixture.ChineseWav), "speech.wav",
            new AudioTranslationOptions { ResponseFormat = AudioTranslationFormat.Verbose })).Value;
        Assert.Equal("english", result.Language);
        Assert.NotNull(result.Text);
        AssertSegments(result.Segments, result.Duration!.Value.TotalSeconds);

        string srt = (await fixture.Audio().TranslateAudioAsync(new MemoryStream(fixture.ChineseWav), "speech.wav",
            new AudioTranslationOptions { ResponseFormat = AudioTranslationFormat.Srt })).Value.Text;
        Assert.Matches(SrtDocument(), srt);
    }

    [RequiresSpeechToolsFact]
    public async Task Sdk_ChineseWithoutLanguage_ReportsALanguageName()
    {
        AudioTranscription result = (await fixture.Audio().TranscribeAudioAsync(new MemoryStream(fixture.ChineseWav), "speech.wav",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose })).Value;
        Assert.Contains(result.Language, WhisperLanguages.Codes.Select(c => WhisperLanguages.TryGetName(c, out string? n) ? n : c));
    }

    [RequiresSpeechToolsTheory]
    [InlineData("flac")]
    [InlineData("m4a")]
    [InlineData("ogg")]
    [InlineData("webm")]
    public async Task Sdk_UploadFormats_AreAccepted(string extension)
    {
        string wav = Path.Combine(fixture.Directory, "source-" + extension + ".wav");
        await File.WriteAllBytesAsync(wav, fixture.ChineseWav);
        byte[] bytes = await SpeechFixtures.ConvertAsync(wav, extension, fixture.Directory);
        AudioTranscription result = (await fixture.Audio().TranscribeAudioAsync(new MemoryStream(bytes), "speech." + extension,
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "zh" })).Value;
        Assert.Equal("chinese", result.Language);
        double probed = await SpeechFixtures.ProbeDurationAsync(fixture.ChineseWav, "wav", fixture.Directory);
        Assert.InRange(result.Duration!.Value.TotalSeconds, probed - 0.1, probed + 0.1);
    }

    [RequiresSpeechToolsFact]
    public async Task LongAudio_SegmentsStayOrderedAcrossWindows()
    {
        string text = string.Join(" ", Enumerable.Repeat("The quick brown fox jumps over the lazy dog, and the server keeps transcribing.", 14));
        byte[] wav = await SpeechFixtures.SpeakAsync(text, "en", "wav", fixture.Directory);
        string source = Path.Combine(fixture.Directory, "long.wav");
        await File.WriteAllBytesAsync(source, wav);
        byte[] mp3 = await SpeechFixtures.ConvertAsync(source, "mp3", fixture.Directory);
        double probed = await SpeechFixtures.ProbeDurationAsync(wav, "wav", fixture.Directory);
        Assert.True(probed > 60, $"the fixture is {probed} s long");

        AudioTranscription result = (await fixture.Audio().TranscribeAudioAsync(new MemoryStream(mp3), "long.mp3",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "en" })).Value;
        Assert.InRange(result.Duration!.Value.TotalSeconds, probed - 0.05, probed + 0.05);
        AssertSegments(result.Segments, probed + 0.05);
        Assert.Contains(result.Segments, s => s.SeekOffset > 0);
    }

    [RequiresSpeechToolsFact]
    public async Task TheDefaultModel_GivesWordTimestamps_InOrder_WithinTheAudio()
    {
        // The random-weight model's temperature fallback samples, and a window may come out empty; seeded attempts make
        // each run repeatable, and one with text must carry its words.
        var worded = 0;
        for (var seed = 1; seed <= 6 && worded == 0; seed++)
        {
            using HttpResponseMessage response = await PostAsync(fixture.EnglishWav, "speech.wav", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ("model", "whisper-1"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "word"), ("language", "en"));
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var document = JsonDocument.Parse(body);
            JsonElement words = document.RootElement.GetProperty("words");
            if (string.IsNullOrWhiteSpace(document.RootElement.GetProperty("text").GetString()))
            {
                continue;
            }

            Assert.True(words.GetArrayLength() > 0, body);
            double duration = document.RootElement.GetProperty("duration").GetDouble(), previous = 0;
            foreach (JsonElement word in words.EnumerateArray())
            {
                double start = word.GetProperty("start").GetDouble(), end = word.GetProperty("end").GetDouble();
                Assert.InRange(start, previous, end);
                Assert.InRange(end, start, duration + 0.01);
                previous = end;
            }

            worded++;
        }

        Assert.True(worded > 0, "no seeded transcript of the default model had any text");
    }

    [RequiresSpeechToolsFact]
    public async Task Stream_SendsDeltasThenDoneWithUsage()
    {
        using HttpResponseMessage response = await PostAsync(fixture.EnglishMp3, "speech.mp3", ("model", "whisper-1"), ("stream", "true"), ("language", "en"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        JsonElement done = events[^1];
        Assert.Equal("transcript.text.done", done.GetProperty("type").GetString());
        JsonElement usage = done.GetProperty("usage");
        Assert.Equal("tokens", usage.GetProperty("type").GetString());
        Assert.True(usage.GetProperty("input_token_details").GetProperty("audio_tokens").GetInt32() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
        Assert.All(events[..^1], e => Assert.Equal("transcript.text.delta", e.GetProperty("type").GetString()));
        Assert.Equal(done.GetProperty("text").GetString(), string.Concat(events[..^1].Select(e => e.GetProperty("delta").GetString())).Trim());
    }

    [RequiresSpeechToolsFact]
    public async Task Sampling_IsReproducibleWithTheSeedHeader()
    {
        async Task<(string Body, string Seed)> Run(string? seed)
        {
            using HttpResponseMessage response = await PostAsync(fixture.EnglishMp3, "speech.mp3", seed, ("model", "whisper-1"), ("temperature", "0.9"), ("response_format", "verbose_json"), ("language", "en"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadAsStringAsync(), response.Headers.GetValues("x-capa-seed").Single());
        }

        var first = await Run(null);
        var again = await Run(first.Seed);
        Assert.Equal(first.Body, again.Body);
    }

    [Fact]
    public async Task BadRequests_GetOpenAiErrors()
    {
        byte[] wav = Capa.Media.Audio.WavFile.Write(new Capa.Media.Audio.PcmAudio(16000, new float[16000]));
        await AssertErrorAsync(await PostAsync(Encoding.UTF8.GetBytes("just text"), "notes.mp3", ("model", "whisper-1")), 400,
            "The audio file could not be decoded or its format is not supported.");
        await AssertErrorAsync(await PostAsync(Encoding.UTF8.GetBytes("just text"), "notes.txt", ("model", "whisper-1")), 400,
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']");
        await AssertErrorAsync(await PostAsync([], "empty.wav", ("model", "whisper-1")), 400,
            "The audio file could not be decoded or its format is not supported.");
        await AssertErrorAsync(await PostAsync(wav, "a.wav", ("model", "no-such-model")), 404, null);
        await AssertErrorAsync(await PostAsync(wav, "a.wav"), 400, "Missing required parameter: 'model'.");
        await AssertErrorAsync(await PostAsync(wav, "a.wav", ("model", "whisper-1"), ("response_format", "json"), ("timestamp_granularities[]", "word")), 400, null);
        await AssertErrorAsync(await PostAsync(wav, "a.wav", ("model", "whisper-1"), ("language", "xx")), 400, null);

        using var json = new StringContent("{\"model\":\"whisper-1\"}", Encoding.UTF8, "application/json");
        await AssertErrorAsync(await fixture.Server.Http.PostAsync("/v1/audio/transcriptions", json), 400, null);
    }

    [Fact]
    public async Task UploadOver25MiB_Gets413()
    {
        byte[] big = new byte[26_214_401];
        "RIFF"u8.CopyTo(big);
        await AssertErrorAsync(await PostAsync(big, "big.wav", ("model", "whisper-1")), 413, null);

        // The server still serves after refusing it.
        byte[] wav = Capa.Media.Audio.WavFile.Write(new Capa.Media.Audio.PcmAudio(16000, new float[8000]));
        using HttpResponseMessage ok = await PostAsync(wav, "a.wav", ("model", "whisper-1"), ("response_format", "text"), ("language", "en"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("text/plain", ok.Content.Headers.ContentType!.MediaType);
    }

    private static void AssertSegments(IReadOnlyList<TranscribedSegment> segments, double duration)
    {
        double previousEnd = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            TranscribedSegment s = segments[i];
            Assert.Equal(i, s.Id);
            Assert.True(s.StartTime.TotalSeconds >= previousEnd - 1e-6, $"segment {i} overlaps the previous one");
            Assert.True(s.EndTime >= s.StartTime && s.EndTime.TotalSeconds <= duration + 1e-6, $"segment {i}: {s.StartTime}..{s.EndTime} beyond {duration}");
            previousEnd = s.EndTime.TotalSeconds;
        }
    }

    private async Task AssertErrorAsync(HttpResponseMessage response, int status, string? message)
    {
        using (response)
        {
            Assert.Equal(status, (int)response.StatusCode);
            using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            JsonElement error = body.RootElement.GetProperty("error");
            Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
            if (message is not null)
            {
                Assert.Equal(message, error.GetProperty("message").GetString());
            }
        }
    }

    private Task<HttpResponseMessage> PostAsync(byte[] file, string fileName, params (string Name, string Value)[] fields) => PostAsync(file, fileName, null, fields);

    private async Task<HttpResponseMessage> PostAsync(byte[] file, string fileName, string? seed, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", fileName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/transcriptions") { Content = form };
        if (seed is not null)
        {
            request.Headers.Add("x-capa-seed", seed);
        }

        return await fixture.Server.Http.SendAsync(request);
    }

    [GeneratedRegex(@"\A(\d+\n\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d\n[^\n]+\n\n)*\z")]
    private static partial Regex SrtDocument();

    [GeneratedRegex(@"\AWEBVTT\n\n(\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d\n[^\n]+\n\n)*\z")]
    private static partial Regex VttDocument();
}
