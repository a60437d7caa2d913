using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Whisper;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Audio;

/// <summary>Two servers: one on a tiny Whisper exported with cross-attentions, one on the same model without them.</summary>
public sealed class WordTimestampsServerFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "capa-word-timestamps-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Timestamped { get; private set; } = null!;

    public CapaTestServer Plain { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Timestamped = await StartAsync("whisper-timestamped", crossAttentions: true);
        Plain = await StartAsync("whisper-plain", crossAttentions: false);
    }

    public async Task DisposeAsync()
    {
        await Timestamped.DisposeAsync();
        await Plain.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private async Task<CapaTestServer> StartAsync(string name, bool crossAttentions)
    {
        string model = Path.Combine(Directory, name);
        WhisperTestModelWriter.Write(new WhisperTestModelSpec { CrossAttentions = crossAttentions, Seed = 3 }, model);
        string store = Path.Combine(Directory, name + "-store");
        return await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = store }, builder =>
            builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = store, ModelDirectory = model, IntraOpThreads = 1, CreateTinyWhenEmpty = false }));
    }
}

public sealed class TranscriptionWordTimestampsTests(WordTimestampsServerFixture fixture) : IClassFixture<WordTimestampsServerFixture>
{
    private const double Seconds = 12;

    [Fact]
    public async Task VerboseJson_WordAndSegment_ReturnsOrderedWordsInsideTheSegments()
    {
        using JsonDocument body = await TranscribeAsync(fixture.Timestamped, ("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment"));
        JsonElement root = body.RootElement;
        double duration = root.GetProperty("duration").GetDouble();
        Assert.Equal(Seconds, duration, 3);
        JsonElement[] segments = [.. root.GetProperty("segments").EnumerateArray()];
        JsonElement[] words = [.. root.GetProperty("words").EnumerateArray()];
        Assert.NotEmpty(words);
        double previousEnd = 0;
        foreach (JsonElement word in words)
        {
            string text = word.GetProperty("word").GetString()!;
            double start = word.GetProperty("start").GetDouble(), end = word.GetProperty("end").GetDouble();
            Assert.False(string.IsNullOrWhiteSpace(text));
            Assert.Equal(text.Trim(), text);
            Assert.True(start >= previousEnd - 1e-9 && end >= start && end <= duration + 1e-9, $"'{text}' {start}..{end} after {previousEnd}");
            Assert.Contains(segments, s => s.GetProperty("start").GetDouble() <= start + 1e-9 && end <= s.GetProperty("end").GetDouble() + 1e-9);
            previousEnd = end;
        }
    }

    [Fact]
    public async Task VerboseJson_WordOnly_HasWordsAndNoSegments()
    {
        using JsonDocument body = await TranscribeAsync(fixture.Timestamped, ("timestamp_granularities[]", "word"));
        Assert.Equal(JsonValueKind.Array, body.RootElement.GetProperty("words").ValueKind);
        Assert.False(body.RootElement.TryGetProperty("segments", out _));

        using JsonDocument segmentsOnly = await TranscribeAsync(fixture.Timestamped, ("timestamp_granularities[]", "segment"));
        Assert.False(segmentsOnly.RootElement.TryGetProperty("words", out _));
        Assert.Equal(JsonValueKind.Array, segmentsOnly.RootElement.GetProperty("segments").ValueKind);
    }

    [Fact]
    public async Task ModelWithoutCrossAttentions_RefusesWordTimestamps()
    {
        using HttpResponseMessage response = await PostAsync(fixture.Plain, ("timestamp_granularities[]", "word"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement error = body.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("timestamp_granularities", error.GetProperty("param").GetString());
        Assert.Equal("unsupported_value", error.GetProperty("code").GetString());
        Assert.Contains("cannot give word timestamps", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Segments still work there.
        using JsonDocument segments = await TranscribeAsync(fixture.Plain, ("timestamp_granularities[]", "segment"));
        Assert.Equal(JsonValueKind.Array, segments.RootElement.GetProperty("segments").ValueKind);
    }

    private static async Task<JsonDocument> TranscribeAsync(CapaTestServer server, params (string Name, string Value)[] fields)
    {
        using HttpResponseMessage response = await PostAsync(server, fields);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text);
    }

    private static async Task<HttpResponseMessage> PostAsync(CapaTestServer server, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(Capa.Media.Audio.WavFile.Write(new Capa.Media.Audio.PcmAudio(16000, Tones(Seconds))));
        part.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(part, "file", "tones.wav");
        form.Add(new StringContent("whisper-1"), "model");
        form.Add(new StringContent("verbose_json"), "response_format");
        form.Add(new StringContent("en"), "language");
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await server.Http.PostAsync("/v1/audio/transcriptions", form);
    }

    /// <summary>Gliding tones in bursts: energy across the mel range, silences between.</summary>
    private static float[] Tones(double seconds)
    {
        var samples = new float[(int)(seconds * 16000)];
        for (int i = 0; i < samples.Length; i++)
        {
            double t = i / 16000.0;
            double f = 220 + (1500 * ((t * 0.41) % 1.0));
            samples[i] = (float)(Math.Max(0, Math.Sin(Math.PI * t * 1.3)) * ((0.3 * Math.Sin(2 * Math.PI * f * t)) + (0.1 * Math.Sin(2 * Math.PI * 3 * f * t))));
        }

        return samples;
    }
}
