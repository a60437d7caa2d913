using Capa.Engine.Speech.Espeak;
using Capa.Media.Audio;
using Capa.Media.Codecs;
using Capa.Media.Tests;

namespace Capa.Engine.Speech.Tests.Espeak;

public sealed class EspeakVoiceTests
{
    [RequiresToolsFact("espeak-ng")]
    public async Task Detects_the_installation_and_its_languages()
    {
        var espeak = await EspeakInstallation.DetectAsync(EspeakOptions.Default, CancellationToken.None);
        Assert.StartsWith("eSpeak NG", espeak.Version, StringComparison.Ordinal);
        Assert.DoesNotContain("Data at", espeak.Version, StringComparison.Ordinal);
        Assert.True(espeak.HasLanguage("cmn"));
        Assert.True(espeak.HasLanguage("en-us"));
    }

    [Fact]
    public async Task A_missing_espeak_is_reported_with_an_install_hint()
    {
        var (installation, error) = await EspeakInstallation.TryDetectAsync(new EspeakOptions { Executable = "/nonexistent/espeak-ng" }, CancellationToken.None);
        Assert.Null(installation);
        Assert.Contains("apt-get install espeak-ng", error, StringComparison.Ordinal);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Groups_sentences_by_language()
    {
        var voice = new EspeakVoice(await DetectAsync());
        var groups = voice.GroupByLanguage(["你好，世界。", "Hello world.", "How are you?", "再见。"]).ToList();
        Assert.Equal([("cmn", "你好，世界。"), ("en-us", "Hello world.\nHow are you?"), ("cmn", "再见。")], groups);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Speaks_Chinese_and_English_as_espeak_ng_itself_does_in_each_language()
    {
        var espeak = await DetectAsync();
        var pieces = await CollectAsync(new EspeakVoice(espeak), "你好，世界。Hello world. How are you?");

        Assert.All(pieces, p => Assert.Equal(22_050, p.SampleRate));
        var chinese = await RunEspeakAsync(espeak, "cmn", "你好，世界。");
        var english = await RunEspeakAsync(espeak, "en-us", "Hello world.\nHow are you?");
        Assert.True(chinese.Rms() > 0.01 && english.Rms() > 0.01);
        Assert.InRange(chinese.Duration.TotalSeconds, 0.5, 4);
        Assert.Equal([.. chinese.Samples, .. english.Samples], pieces.SelectMany(p => p.Samples).ToArray());
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task A_long_text_arrives_in_several_pieces_from_one_run()
    {
        var text = string.Join(" ", Enumerable.Repeat("This sentence is one of many in a long paragraph.", 12));
        var pieces = await CollectAsync(new EspeakVoice(await DetectAsync(), "en-us"), text);
        Assert.True(pieces.Count >= 4, $"Only {pieces.Count} pieces.");
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Duration_grows_with_text_and_shrinks_with_speed()
    {
        var voice = new EspeakVoice(await DetectAsync(), "en-us");
        var shortText = await DurationAsync(voice, "The quick brown fox.", 1.0);
        var longText = await DurationAsync(voice, "The quick brown fox jumps over the lazy dog. It was a sunny day.", 1.0);
        var fast = await DurationAsync(voice, "The quick brown fox jumps over the lazy dog. It was a sunny day.", 2.0);
        var slowest = await DurationAsync(voice, "The quick brown fox jumps over the lazy dog. It was a sunny day.", 0.25);

        Assert.True(longText > shortText * 2, $"{longText} vs {shortText}");
        Assert.InRange(fast / longText, 0.4, 0.65);
        Assert.InRange(slowest / longText, 2.8, 5.0);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Variants_change_the_voice_and_the_same_input_gives_the_same_samples()
    {
        var espeak = await DetectAsync();
        var plain = await CollectAsync(new EspeakVoice(espeak), "Hello world.");
        var again = await CollectAsync(new EspeakVoice(espeak), "Hello world.");
        var female = await CollectAsync(new EspeakVoice(espeak, variant: "f3"), "Hello world.");

        // Piece boundaries follow pipe timing; the samples do not.
        Assert.Equal(plain.SelectMany(p => p.Samples), again.SelectMany(p => p.Samples));
        Assert.NotEqual(plain.SelectMany(p => p.Samples), female.SelectMany(p => p.Samples));
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Parses_local_voice_ids()
    {
        var espeak = await DetectAsync();
        Assert.True(EspeakVoice.TryParseId("espeak-ng", espeak, out var auto));
        Assert.Null(auto.Language);
        Assert.True(EspeakVoice.TryParseId("espeak-ng/de", espeak, out var german));
        Assert.Equal("de", german.Language);
        Assert.True(EspeakVoice.TryParseId("espeak-ng/en-gb+m3", espeak, out var british));
        Assert.Equal(("en-gb", "m3"), (british.Language, british.Variant));
        Assert.True(EspeakVoice.TryParseId("espeak-ng/+f2", espeak, out var variantOnly));
        Assert.Equal((null, "f2"), (variantOnly.Language, variantOnly.Variant));
        Assert.False(EspeakVoice.TryParseId("espeak-ng/xx-nowhere", espeak, out _));
        Assert.False(EspeakVoice.TryParseId("espeak-ng/en-us+../../etc", espeak, out _));
        Assert.False(EspeakVoice.TryParseId("espeak-ng/--help", espeak, out _));
        Assert.False(EspeakVoice.TryParseId("alloy", espeak, out _));
    }

    [Theory]
    [InlineData("hang")]
    [InlineData("die")]
    [InlineData("garbage")]
    public async Task A_misbehaving_espeak_fails_cleanly_and_leaves_no_process(string behaviour)
    {
        using var fake = new FakeEspeak(behaviour);
        var options = new EspeakOptions
        {
            Executable = fake.Executable,
            Limits = EspeakOptions.Default.Limits with { Timeout = TimeSpan.FromSeconds(2) },
        };
        var espeak = await EspeakInstallation.DetectAsync(options, CancellationToken.None);

        await Assert.ThrowsAsync<SpeechSynthesisException>(() => CollectAsync(new EspeakVoice(espeak), "Hello world."));

        Assert.NotEmpty(fake.RecordedPids());
        Assert.True(await MediaTools.AllGoneAsync(fake.RecordedPids()), "A process of the failed espeak-ng is still running.");
    }

    [RequiresToolsFact("espeak-ng", "ffmpeg")]
    public async Task Renders_pcm_at_24_kHz_and_streams_before_the_end()
    {
        var voice = new EspeakVoice(await DetectAsync());
        var chunks = new List<byte[]>();
        var result = await SpeechRenderer.RenderAsync(
            voice,
            new SpeechInput { Text = "First sentence. Second sentence. Third sentence." },
            AudioFormat.Pcm,
            (chunk, _) => { chunks.Add(chunk.ToArray()); return ValueTask.CompletedTask; },
            null,
            CancellationToken.None);

        Assert.True(chunks.Count >= 3, "The audio did not arrive sentence by sentence.");
        Assert.Equal(result.Samples * 2, chunks.Sum(c => c.Length));
        Assert.InRange(result.Duration.TotalSeconds, 2, 8);
    }

    private static Task<EspeakInstallation> DetectAsync() => EspeakInstallation.DetectAsync(EspeakOptions.Default, CancellationToken.None);

    private static async Task<List<PcmAudio>> CollectAsync(ISpeechVoice voice, string text, double speed = 1.0)
    {
        var list = new List<PcmAudio>();
        await foreach (var piece in voice.SynthesizeAsync(new SpeechInput { Text = text, Speed = speed }, CancellationToken.None))
        {
            list.Add(piece);
        }

        return list;
    }

    private static async Task<double> DurationAsync(ISpeechVoice voice, string text, double speed) =>
        (await CollectAsync(voice, text, speed)).Sum(p => p.Duration.TotalSeconds);

    private static async Task<PcmAudio> RunEspeakAsync(EspeakInstallation espeak, string language, string text)
    {
        using var output = new MemoryStream();
        using var input = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text + "\n"));
        await Capa.Media.Processes.MediaProcess.RunAsync(espeak.Path, ["-b", "1", "-v", language, "--stdout", "--stdin"], input, output, Capa.Media.Processes.MediaProcessLimits.Default, CancellationToken.None);
        return WavFile.Read(output.ToArray());
    }
}
