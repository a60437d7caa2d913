using System.Net;
using System.Text.Json;
using Capa.Media.Audio;
using Capa.Media.Tests;
using Capa.Server.Audio;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Speech;
using OpenAI.Audio;

namespace Capa.Server.Tests.Audio;

/// <summary>A server with a random-weight Kokoro folder and a Piper voice installed (real espeak-ng for phonemes).</summary>
public sealed class NeuralSpeechServerFixture : IAsyncLifetime
{
    public const string KokoroId = "Kokoro-82M-test";
    public const string PiperFolderId = "piper-test";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-neural-speech-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        KokoroTestModelWriter.Write(new KokoroTestModelSpec { Seed = 11 }, Path.Combine(_root, KokoroId));
        PiperTestModelWriter.Write(new PiperTestModelSpec { Seed = 5 }, Path.Combine(_root, PiperFolderId));
        Server = await SpeechServers.StartAsync(new SpeechOptions
        {
            VoiceDirectories = [Path.Combine(_root, KokoroId), Path.Combine(_root, PiperFolderId)],
            IntraOpThreads = 1,
        });
    }

    public AudioClient Audio(string model) => SpeechServers.Client(Server).GetAudioClient(model);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}

public sealed class NeuralSpeechTests(NeuralSpeechServerFixture fixture) : IClassFixture<NeuralSpeechServerFixture>
{
    private static readonly SpeechGenerationOptions Wav = new() { ResponseFormat = GeneratedSpeechFormat.Wav };

    [RequiresToolsFact("espeak-ng")]
    public async Task The_models_list_shows_the_voice_models_and_OpenAIs_speech_ids_with_their_capability()
    {
        using var response = await fixture.Server.Http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()!).ToArray());
        foreach (var id in new[] { "tts-1", "tts-1-hd", "gpt-4o-mini-tts", "espeak-ng", NeuralSpeechServerFixture.KokoroId, NeuralSpeechServerFixture.PiperFolderId })
        {
            Assert.True(data.TryGetValue(id, out var capabilities), $"/v1/models lacks {id}");
            Assert.Equal(["speech"], capabilities);
        }

        using var one = await fixture.Server.Http.GetAsync("/v1/models/tts-1");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var model = JsonDocument.Parse(await one.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("tts-1", model.GetProperty("id").GetString());
        Assert.Equal("speech", model.GetProperty("capabilities")[0].GetString());
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task OpenAIs_voice_names_speak_with_Kokoro_by_the_voice_table_when_Kokoro_is_installed()
    {
        // alloy stands for Kokoro's af_alloy: the same request by the local voice id gives the same bytes.
        var byName = (await fixture.Audio("tts-1").GenerateSpeechAsync("Hello world. How are you?", GeneratedSpeechVoice.Alloy, Wav)).Value.ToArray();
        var byId = await PostWavAsync("tts-1", """{"id":"af_alloy"}""", "Hello world. How are you?");
        Assert.Equal(byName, byId);
        var byModel = (await fixture.Audio(NeuralSpeechServerFixture.KokoroId).GenerateSpeechAsync("Hello world. How are you?", GeneratedSpeechVoice.Alloy, Wav)).Value.ToArray();
        Assert.Equal(byName, byModel);

        var audio = WavFile.Read(byName);
        Assert.Equal(24_000, audio.SampleRate);
        Assert.True(audio.Rms() > 0.01);

        var echo = (await fixture.Audio("tts-1").GenerateSpeechAsync("Hello world. How are you?", GeneratedSpeechVoice.Echo, Wav)).Value.ToArray();
        Assert.NotEqual(byName, echo);

        // espeak-ng stays reachable by its model id and its voice ids.
        var espeak = (await fixture.Audio("espeak-ng").GenerateSpeechAsync("Hello world. How are you?", GeneratedSpeechVoice.Alloy, Wav)).Value.ToArray();
        Assert.NotEqual(byName, espeak);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task A_Piper_voice_speaks_by_its_id_and_by_its_model_with_OpenAIs_names()
    {
        var byId = WavFile.Read(await PostWavAsync("tts-1", """{"id":"en_US-test-medium"}""", "Good morning. See you soon."));
        Assert.Equal(24_000, byId.SampleRate);
        Assert.True(byId.Rms() > 0.01);
        var byModel = (await fixture.Audio(NeuralSpeechServerFixture.PiperFolderId).GenerateSpeechAsync("Good morning. See you soon.", GeneratedSpeechVoice.Nova, Wav)).Value.ToArray();
        Assert.Equal(byId.Samples, WavFile.Read(byModel).Samples);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Speed_changes_the_neural_voice_s_length()
    {
        var normal = WavFile.Read((await fixture.Audio("tts-1").GenerateSpeechAsync("The quick brown fox jumps over the lazy dog.", GeneratedSpeechVoice.Nova, Wav)).Value.ToArray());
        var fast = WavFile.Read((await fixture.Audio("tts-1").GenerateSpeechAsync("The quick brown fox jumps over the lazy dog.", GeneratedSpeechVoice.Nova, new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav, SpeedRatio = 2f })).Value.ToArray());
        Assert.InRange(fast.Samples.Length, normal.Samples.Length * 0.4, normal.Samples.Length * 0.6);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task An_unknown_local_voice_id_is_OpenAIs_400()
    {
        using var response = await SpeechServers.PostAsync(fixture.Server, """{"model":"tts-1","voice":{"id":"af_nobody"},"input":"Hi."}""");
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest);
    }

    private async Task<byte[]> PostWavAsync(string model, string voiceJson, string input)
    {
        var json = $$"""{"model":"{{model}}","voice":{{voiceJson}},"input":{{JsonSerializer.Serialize(input)}},"response_format":"wav"}""";
        using var response = await SpeechServers.PostAsync(fixture.Server, json);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        return bytes;
    }
}
