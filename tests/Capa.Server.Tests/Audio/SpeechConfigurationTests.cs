using System.Net;
using Capa.Media.Tests;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Audio;

/// <summary>The config file's <c>speech</c> object: the voice table and the default language.</summary>
public sealed class SpeechConfigurationTests : IDisposable
{
    private readonly string _config = Path.Combine(Path.GetTempPath(), "capa-speech-config-" + Guid.NewGuid().ToString("N") + ".json");

    public void Dispose() => File.Delete(_config);

    [RequiresToolsFact("espeak-ng")]
    public async Task The_voice_table_and_language_come_from_the_config_file()
    {
        await File.WriteAllTextAsync(_config, """
            {
              // alloy speaks German; Latin-script text defaults to British English.
              "speech": { "voices": { "alloy": "espeak-ng/de", "narrator": "espeak-ng/+m3" }, "language": "en-gb" }
            }
            """);
        await using var configured = await CapaTestServer.StartAsync(new CapaServerOptions { ConfigFile = _config });
        await using var plain = await CapaTestServer.StartAsync(new CapaServerOptions());

        async Task<byte[]> SpeakAsync(CapaTestServer server, string voice)
        {
            using var response = await SpeechServers.PostAsync(server, $$"""{"model":"tts-1","input":"Good morning.","voice":"{{voice}}","response_format":"pcm"}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }

        Assert.Equal(await SpeakAsync(plain, "espeak-ng/de"), await SpeakAsync(configured, "alloy"));
        Assert.Equal(await SpeakAsync(plain, "espeak-ng/en-gb+m3"), await SpeakAsync(configured, "narrator"));

        // Names left out keep their default variant; the default language applies to them.
        Assert.Equal(await SpeakAsync(plain, "espeak-ng/en-gb+m1"), await SpeakAsync(configured, "echo"));
    }

    [Theory]
    [InlineData("""{"speech":{"voices":{"alloy":""}}}""")]
    [InlineData("""{"speech":{"language":"en us"}}""")]
    [InlineData("""{"speech":{"espeak_ng":""}}""")]
    [InlineData("""{"speech":{"voice":{}}}""")]
    public void Bad_speech_settings_are_refused_with_a_message(string json)
    {
        Assert.Throws<CapaConfigException>(() => CapaConfigFile.Parse(System.Text.Encoding.UTF8.GetBytes(json), "test.json"));
    }
}
