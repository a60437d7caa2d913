using Capa.Media.Processes;
using Capa.Server.Audio;
using Capa.Server.Tests.Audio;

namespace Capa.Server.Tests.Compatibility;

/// <summary>The tutorial's text-to-speech call through the official OpenAI Node SDK, only the base URL changed.</summary>
public sealed class NodeSdkSpeechTests
{
    [NodeSdkSpeechFact]
    public async Task Speech_in_every_format_and_as_events_parses_in_the_Node_SDK()
    {
        await using var server = await SpeechServers.StartAsync(new SpeechOptions());
        var seen = await NodeSdk.RunScriptAsync("openai-node-speech.mjs", server.BaseUrl + "/v1");

        var formats = seen.GetProperty("formats");
        (string Format, string ContentType, string Head)[] expected =
        [
            ("mp3", "audio/mpeg", "fff"),
            ("opus", "audio/ogg", "4f676753"),
            ("aac", "audio/aac", "fff"),
            ("flac", "audio/flac", "664c6143"),
            ("wav", "audio/wav", "52494646"),
            ("pcm", "audio/pcm", ""),
        ];
        foreach (var (format, contentType, head) in expected)
        {
            var item = formats.GetProperty(format);
            Assert.Equal(contentType, item.GetProperty("contentType").GetString());
            Assert.StartsWith(head, item.GetProperty("head").GetString(), StringComparison.Ordinal);
            Assert.True(item.GetProperty("bytes").GetInt32() > 1000, format);
            Assert.Matches("^fp_[0-9a-f]{10}$", item.GetProperty("fingerprint").GetString());
        }

        var sse = seen.GetProperty("sse");
        Assert.StartsWith("text/event-stream", sse.GetProperty("contentType").GetString(), StringComparison.Ordinal);
        var types = sse.GetProperty("types").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal("speech.audio.done", types[^1]);
        Assert.All(types.SkipLast(1), t => Assert.Equal("speech.audio.delta", t));
        Assert.True(sse.GetProperty("audioBytes").GetInt32() > 48_000);
        Assert.True(sse.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);

        var bad = seen.GetProperty("badSpeed");
        Assert.Equal(400, bad.GetProperty("status").GetInt32());
        Assert.True(bad.GetProperty("isBadRequest").GetBoolean());
        Assert.Equal("speed", bad.GetProperty("param").GetString());
        Assert.Equal("decimal_above_max_value", bad.GetProperty("code").GetString());
    }
}

/// <summary>A fact skipped, with the reason, where the Node SDK, espeak-ng or ffmpeg is missing.</summary>
public sealed class NodeSdkSpeechFactAttribute : FactAttribute
{
    public NodeSdkSpeechFactAttribute()
    {
        if (NodeSdk.UnavailableReason is { } reason)
        {
            Skip = "Node SDK unavailable: " + reason + ".";
        }
        else if (!ExecutableLocator.TryFind("espeak-ng", out _) || !ExecutableLocator.TryFind("ffmpeg", out _))
        {
            Skip = "Skipped: espeak-ng or ffmpeg not found on PATH (Debian: apt-get install espeak-ng ffmpeg).";
        }
    }
}
