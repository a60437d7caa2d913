using System.Net;
using System.Text.Json;
using Capa.Media.Audio;
using Capa.Media.Tests;
using Capa.Models;
using Capa.Models.Store;
using Capa.Server.Audio;
using Capa.TestModels.Speech;

namespace Capa.Server.Tests.Audio;

/// <summary>A Piper voice in the model store as <c>capa pull rhasspy/piper-voices/VOICE</c> lays it out is served.</summary>
public sealed class StoredVoiceTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-stored-voice-" + Guid.NewGuid().ToString("N"));

    [RequiresToolsFact("espeak-ng")]
    public async Task A_pulled_piper_voice_is_listed_and_speaks_under_its_store_id()
    {
        // rhasspy/piper-voices keeps a voice at LANG/LOCALE/NAME/QUALITY/; the pull keeps that path under ORG/VOICE.
        var folder = Path.Combine(_root, "rhasspy", "en_US-test-medium");
        var voiceFolder = Path.Combine(folder, "en", "en_US", "test", "medium");
        var written = PiperTestModelWriter.Write(new PiperTestModelSpec { Seed = 9 }, voiceFolder);
        new ModelManifest
        {
            Id = "rhasspy/en_US-test-medium",
            Repository = "rhasspy/piper-voices",
            Revision = "main",
            Variant = ModelVariant.Fp32,
            Files = [.. written.Files.Select(f => new ManifestFile("en/en_US/test/medium/" + f, new FileInfo(Path.Combine(voiceFolder, f)).Length, new string('0', 64)))],
        }.Write(Path.Combine(folder, ModelManifest.FileName));

        await using var server = await SpeechServers.StartAsync(new SpeechOptions { ModelsDirectory = _root, IntraOpThreads = 1 });
        using var models = await server.Http.GetAsync("/v1/models");
        var ids = JsonDocument.Parse(await models.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray()
            .Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("rhasspy/en_US-test-medium", ids);

        using var response = await SpeechServers.PostAsync(server, """{"model":"rhasspy/en_US-test-medium","voice":"alloy","input":"Good morning.","response_format":"wav"}""");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(bytes));
        var audio = WavFile.Read(bytes);
        Assert.Equal(24_000, audio.SampleRate);
        Assert.True(audio.Rms() > 0.01);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
