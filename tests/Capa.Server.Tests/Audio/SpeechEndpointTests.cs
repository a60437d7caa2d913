using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Media.Audio;
using Capa.Media.Processes;
using Capa.Media.Tests;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Audio;

namespace Capa.Server.Tests.Audio;

public sealed class SpeechEndpointTests(SpeechServerFixture fixture) : IClassFixture<SpeechServerFixture>
{
    private const string Tutorial = "你好，世界。Hello world.";

    public static TheoryData<string, string, string, int> Formats => new()
    {
        { "mp3", "mp3", "mp3", 24_000 },
        { "opus", "ogg", "opus", 48_000 },
        { "aac", "aac", "aac", 24_000 },
        { "flac", "flac", "flac", 24_000 },
        { "wav", "wav", "pcm_s16le", 24_000 },
        { "pcm", "s16le", "pcm_s16le", 24_000 },
    };

    [RequiresToolsTheory("espeak-ng", "ffmpeg", "ffprobe")]
    [MemberData(nameof(Formats))]
    public async Task The_tutorials_sentence_speaks_in_every_format_through_the_official_SDK(string format, string container, string codec, int probedRate)
    {
        var audio = fixture.Audio("tts-1");
        BinaryData speech = await audio.GenerateSpeechAsync(Tutorial, GeneratedSpeechVoice.Alloy, new SpeechGenerationOptions { ResponseFormat = new GeneratedSpeechFormat(format) });
        var bytes = speech.ToArray();

        var rawPcm = format == "pcm" ? "-f s16le -ar 24000 -ac 1" : null;
        var probe = await MediaTools.ProbeAsync(bytes, rawPcm);
        Assert.Equal(container, probe.FormatName);
        Assert.Equal(codec, probe.CodecName);
        Assert.Equal(probedRate, probe.SampleRate);
        Assert.Equal(1, probe.Channels);

        var decoded = await MediaTools.DecodeAsync(bytes, 24_000, rawPcm);
        Assert.InRange(decoded.Duration.TotalSeconds, 1.0, 6.0);
        Assert.True(decoded.Rms() > 0.01, "The speech is silent.");
    }

    [RequiresToolsFact("espeak-ng", "ffmpeg")]
    public async Task Wav_is_espeak_ngs_own_voice_resampled_to_24_kHz()
    {
        var audio = fixture.Audio("tts-1");
        BinaryData wav = await audio.GenerateSpeechAsync("Hello world. This is Capa speaking.", GeneratedSpeechVoice.Alloy, new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav });
        var ours = WavFile.Read(wav.ToArray());
        Assert.Equal(24_000, ours.SampleRate);

        // alloy is espeak-ng's English with the f3 variant; both sentences are English, so one run speaks them.
        using var output = new MemoryStream();
        using var input = new MemoryStream(Encoding.UTF8.GetBytes("Hello world.\nThis is Capa speaking.\n"));
        await MediaProcess.RunAsync("espeak-ng", ["-b", "1", "-v", "en-us+f3", "--stdout", "--stdin"], input, output, MediaProcessLimits.Default, CancellationToken.None);
        var raw = WavFile.Read(output.ToArray()).Samples;
        var byFfmpeg = (await MediaTools.DecodeAsync(output.ToArray(), 24_000)).Samples;

        // Exactly espeak-ng's samples through Capa's resampler, up to 16-bit rounding.
        var expected = Resampler.Resample(raw, 22_050, 24_000);
        Assert.Equal(expected.Length, ours.Samples.Length);
        Assert.All(expected.Zip(ours.Samples), p => Assert.True(Math.Abs(p.First - p.Second) <= 1.5 / 32767, $"{p.First} vs {p.Second}"));

        // And close to what an independent resampler (ffmpeg's) makes of the same voice.
        Assert.InRange(ours.Samples.Length, byFfmpeg.Length - 8, byFfmpeg.Length + 8);
        var n = Math.Min(ours.Samples.Length, byFfmpeg.Length);
        double dot = 0, a = 0, b = 0;
        for (var i = 0; i < n; i++)
        {
            dot += ours.Samples[i] * byFfmpeg[i];
            a += ours.Samples[i] * ours.Samples[i];
            b += byFfmpeg[i] * byFfmpeg[i];
        }

        var correlation = dot / Math.Sqrt(a * b);
        Assert.True(correlation > 0.95, $"Correlation with ffmpeg's resampling {correlation}.");
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Duration_grows_with_text_and_shrinks_with_speed()
    {
        var audio = fixture.Audio("tts-1");
        var pcm = new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Pcm };
        var shortText = (await audio.GenerateSpeechAsync("Good morning.", GeneratedSpeechVoice.Nova, pcm)).Value.ToArray().Length;
        const string longer = "Good morning. The weather today is sunny with a light breeze from the west.";
        var longText = (await audio.GenerateSpeechAsync(longer, GeneratedSpeechVoice.Nova, pcm)).Value.ToArray().Length;
        var fast = (await audio.GenerateSpeechAsync(longer, GeneratedSpeechVoice.Nova, new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Pcm, SpeedRatio = 2f })).Value.ToArray().Length;
        var slow = (await audio.GenerateSpeechAsync(longer, GeneratedSpeechVoice.Nova, new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Pcm, SpeedRatio = 0.5f })).Value.ToArray().Length;

        Assert.True(longText > 3 * shortText, $"{longText} vs {shortText}");
        Assert.InRange((double)fast / longText, 0.4, 0.65);
        Assert.InRange((double)slow / longText, 1.6, 2.6);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Chinese_speaks_as_Mandarin()
    {
        var audio = fixture.Audio("gpt-4o-mini-tts");
        var chinese = (await audio.GenerateSpeechAsync("今天天气很好，我们去公园散步吧。", new GeneratedSpeechVoice("coral"), new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav })).Value.ToArray();
        var decoded = WavFile.Read(chinese);
        Assert.InRange(decoded.Duration.TotalSeconds, 1.5, 8);
        Assert.True(decoded.Rms() > 0.01);

        // The same text through a voice pinned to English is spelled out character by character, very differently.
        var english = (await audio.GenerateSpeechAsync("今天天气很好，我们去公园散步吧。", new GeneratedSpeechVoice("espeak-ng/en-us"), new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav })).Value.ToArray();
        Assert.NotEqual(chinese.Length, english.Length);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Every_OpenAI_voice_and_local_voice_ids_speak()
    {
        var audio = fixture.Audio("tts-1-hd");
        var sizes = new HashSet<string>();
        foreach (var voice in Capa.Protocol.Audio.SpeechModels.OpenAIVoices.Concat(["espeak-ng", "espeak-ng/de", "espeak-ng/fr-fr+m3"]))
        {
            var pcm = (await audio.GenerateSpeechAsync("Hello there.", new GeneratedSpeechVoice(voice), new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Pcm })).Value.ToArray();
            Assert.True(pcm.Length > 24_000, $"{voice} gave {pcm.Length} bytes.");
            sizes.Add(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(pcm)));
        }

        // Voices differ from one another (a few names may share a variant).
        Assert.True(sizes.Count >= 10, $"Only {sizes.Count} distinct voices.");
    }

    [RequiresToolsTheory("espeak-ng", "ffmpeg")]
    [InlineData("mp3")]
    [InlineData("opus")]
    [InlineData("aac")]
    [InlineData("flac")]
    [InlineData("wav")]
    [InlineData("pcm")]
    public async Task The_same_request_gives_byte_identical_audio_and_the_same_fingerprint(string format)
    {
        var body = $$"""{"model":"tts-1","input":"{{Tutorial}}","voice":"echo","response_format":"{{format}}","speed":1.25}""";
        using var first = await SpeechServers.PostAsync(fixture.Server, body);
        using var second = await SpeechServers.PostAsync(fixture.Server, body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var fingerprint = Assert.Single(first.Headers.GetValues("x-capa-voice-fingerprint"));
        Assert.Matches("^fp_[0-9a-f]{10}$", fingerprint);
        Assert.Equal(fingerprint, Assert.Single(second.Headers.GetValues("x-capa-voice-fingerprint")));
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
    }

    [RequiresToolsFact("espeak-ng", "ffmpeg")]
    public async Task Concurrent_requests_each_get_their_own_audio()
    {
        string[] formats = ["mp3", "opus", "aac", "flac", "wav", "pcm", "mp3", "opus"];
        string Body(int i) => $$"""{"model":"tts-1","input":"Request number {{i}}. 第{{i}}个请求。","voice":"shimmer","response_format":"{{formats[i]}}"}""";

        var together = await Task.WhenAll(formats.Select(async (_, i) =>
        {
            using var response = await SpeechServers.PostAsync(fixture.Server, Body(i));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));

        for (var i = 0; i < formats.Length; i++)
        {
            using var alone = await SpeechServers.PostAsync(fixture.Server, Body(i));
            Assert.Equal(await alone.Content.ReadAsByteArrayAsync(), together[i]);
        }
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task The_fingerprint_changes_with_voice_and_format()
    {
        async Task<string> FingerprintAsync(string voice, string format)
        {
            using var response = await SpeechServers.PostAsync(fixture.Server, $$"""{"model":"tts-1","input":"Hi.","voice":"{{voice}}","response_format":"{{format}}"}""");
            return Assert.Single(response.Headers.GetValues("x-capa-voice-fingerprint"));
        }

        var alloyWav = await FingerprintAsync("alloy", "wav");
        Assert.NotEqual(alloyWav, await FingerprintAsync("echo", "wav"));
        Assert.NotEqual(alloyWav, await FingerprintAsync("alloy", "pcm"));
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Audio_is_sent_chunked_with_the_formats_content_type()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/speech")
        {
            Content = new StringContent("""{"model":"tts-1","input":"One. Two. Three.","voice":"alloy","response_format":"pcm"}""", Encoding.UTF8, "application/json"),
        };
        using var response = await fixture.Server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal("audio/pcm", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 48_000);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Sse_streams_base64_deltas_then_done_with_usage()
    {
        var body = """{"model":"gpt-4o-mini-tts","input":"First sentence. Second sentence.","voice":"sage","response_format":"pcm","stream_format":"sse"}""";
        using var response = await SpeechServers.PostAsync(fixture.Server, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone())
            .ToList();
        var deltas = events.SkipLast(1).ToList();
        Assert.True(deltas.Count >= 2, "Expected a delta per sentence at least.");
        Assert.All(deltas, d =>
        {
            Assert.Equal("speech.audio.delta", d.GetProperty("type").GetString());
            Assert.Equal(2, d.EnumerateObject().Count());
        });
        var audio = deltas.SelectMany(d => Convert.FromBase64String(d.GetProperty("audio").GetString()!)).ToArray();

        var done = events[^1];
        Assert.Equal("speech.audio.done", done.GetProperty("type").GetString());
        var usage = done.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt32() > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("input_tokens").GetInt32() + usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        // The deltas are exactly the audio the plain stream sends.
        using var plain = await SpeechServers.PostAsync(fixture.Server, body.Replace(",\"stream_format\":\"sse\"", "", StringComparison.Ordinal));
        Assert.Equal(await plain.Content.ReadAsByteArrayAsync(), audio);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Classic_models_answer_sse_with_plain_audio_as_OpenAI_does()
    {
        using var response = await SpeechServers.PostAsync(fixture.Server, """{"model":"tts-1","input":"Hi.","voice":"alloy","response_format":"wav","stream_format":"sse"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
    }

    [RequiresToolsTheory("espeak-ng", "ffmpeg", "ffprobe")]
    [InlineData("mp3")]
    [InlineData("wav")]
    public async Task Text_with_nothing_to_say_is_a_short_silence_in_a_valid_file(string format)
    {
        using var response = await SpeechServers.PostAsync(fixture.Server, $$"""{"model":"tts-1","input":"... !!! ---","voice":"alloy","response_format":"{{format}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decoded = await MediaTools.DecodeAsync(await response.Content.ReadAsByteArrayAsync(), 24_000);
        Assert.InRange(decoded.Duration.TotalSeconds, 0.05, 0.3);
        Assert.True(decoded.Rms() < 0.001);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Instructions_are_accepted_by_gpt_4o_mini_tts()
    {
        using var response = await SpeechServers.PostAsync(fixture.Server, """{"model":"gpt-4o-mini-tts","input":"Hi.","voice":"alloy","instructions":"Speak calmly.","response_format":"pcm"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string, string> BadRequests => new()
    {
        { """{"model":"tts-1","input":"","voice":"alloy"}""", "input", "empty_string" },
        { $$"""{"model":"tts-1","input":"{{new string('a', 4097)}}","voice":"alloy"}""", "input", "string_above_max_length" },
        { """{"model":"tts-1","input":"Hi","voice":"robot"}""", "voice", "invalid_value" },
        { """{"model":"tts-1","input":"Hi","voice":{"id":"voice_1234"}}""", "voice.id", "invalid_value" },
        { """{"model":"tts-1","input":"Hi","voice":"espeak-ng/xx"}""", "voice", "invalid_value" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy","speed":0.1}""", "speed", "decimal_below_min_value" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy","speed":5}""", "speed", "decimal_above_max_value" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy","response_format":"ogg"}""", "response_format", "invalid_value" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy","stream_format":"chunked"}""", "stream_format", "invalid_value" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy","instructions":"Whisper."}""", "instructions", "unsupported_parameter" },
        { """{"model":"tts-1","voice":"alloy"}""", "input", "missing_required_parameter" },
        { """{"model":"tts-1","input":"Hi","voice":"alloy",""", null!, null! },
    };

    [RequiresToolsTheory("espeak-ng")]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_OpenAIs_400(string body, string? param, string? code)
    {
        using var response = await SpeechServers.PostAsync(fixture.Server, body);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code, param);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Bad_input_through_the_SDK_is_a_400_with_OpenAIs_message()
    {
        var audio = fixture.Audio("tts-1");
        var error = await Assert.ThrowsAsync<ClientResultException>(() => audio.GenerateSpeechAsync("Hi", GeneratedSpeechVoice.Alloy, new SpeechGenerationOptions { SpeedRatio = 5f }));
        Assert.Equal(400, error.Status);
        Assert.Contains("decimal above maximum value", error.Message, StringComparison.Ordinal);

        error = await Assert.ThrowsAsync<ClientResultException>(() => audio.GenerateSpeechAsync(new string('x', 4097), GeneratedSpeechVoice.Alloy));
        Assert.Equal(400, error.Status);
        Assert.Contains("string too long", error.Message, StringComparison.Ordinal);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task An_unknown_model_is_404_and_a_non_json_body_415()
    {
        using var unknown = await SpeechServers.PostAsync(fixture.Server, """{"model":"tts-9","input":"Hi","voice":"alloy"}""");
        await ErrorAssert.IsOpenAIErrorAsync(unknown, HttpStatusCode.NotFound, "model_not_found");

        using var text = await fixture.Server.Http.PostAsync("/v1/audio/speech", new StringContent("hello", Encoding.UTF8, "text/plain"));
        await ErrorAssert.IsOpenAIErrorAsync(text, HttpStatusCode.UnsupportedMediaType);
    }
}
