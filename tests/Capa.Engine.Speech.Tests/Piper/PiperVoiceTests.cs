using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Capa.Engine.Speech.Espeak;
using Capa.Engine.Speech.Piper;
using Capa.Engine.Speech.Tests.Kokoro;
using Capa.Media.Tests;

namespace Capa.Engine.Speech.Tests.Piper;

public sealed class PiperVoiceTests
{
    [Fact]
    public void Cuts_clauses_at_espeak_s_clause_punctuation_and_keeps_the_terminator()
    {
        var clauses = PiperPhonemizer.SplitClauses("Hello world, hi. Version 3.14 works; ok?! 你好，世界。");
        Assert.Equal(
            [new("Hello world", ','), new("hi", '.'), new("Version 3.14 works", ';'), new("ok", '!'), new("你好", ','), new("世界", '.')],
            clauses);
        Assert.True(clauses[1].EndsSentence);
        Assert.False(clauses[0].EndsSentence);
    }

    [Fact]
    public void Ids_are_bos_pad_phoneme_pad_eos_with_unknown_phonemes_skipped()
    {
        var config = PiperConfig.Load(Directory.EnumerateFiles(VoiceFolders.Piper, "*.onnx.json").Single());
        long Id(string p) => config.PhonemeIdMap[p][0];
        var phonemes = new List<string>();
        PiperPhonemizer.AppendPhonemes(phonemes, "(en)hə§(fr)l");
        Assert.Equal(["h", "ə", "§", "l"], phonemes);
        var decomposed = new List<string>();
        PiperPhonemizer.AppendPhonemes(decomposed, "ç");
        Assert.Equal(["c", "\u0327"], decomposed);
        Assert.Equal([Id("^"), Id("_"), Id("h"), Id("_"), Id("ə"), Id("_"), Id("l"), Id("_"), Id("$")], PiperPhonemizer.ToIds(phonemes, config));
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Ids_follow_the_json_rules_over_espeak_ng_s_own_phonemes()
    {
        const string text = "Hello world, this is Piper. Is it?";
        var jsonPath = Directory.EnumerateFiles(VoiceFolders.Piper, "*.onnx.json").Single();
        var config = PiperConfig.Load(jsonPath);
        var phonemizer = new PiperPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        var sentences = await phonemizer.PhonemizeAsync(text, "en-us", CancellationToken.None);
        Assert.Equal(2, sentences.Count);

        // The expectation, built independently: espeak-ng's lines for each clause, NFD, flags removed, Piper's map read
        // from the json file itself.
        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(jsonPath));
        var map = json.RootElement.GetProperty("phoneme_id_map");
        var expected = new List<long>();
        void Add(string symbol) => expected.AddRange(map.GetProperty(symbol).EnumerateArray().Select(e => e.GetInt64()));
        var first = new StringBuilder();
        first.Append(Espeak("Hello world")).Append(", ").Append(Espeak("this is Piper")).Append('.');
        Add("^");
        Add("_");
        var flag = false;
        foreach (var rune in first.ToString().EnumerateRunes())
        {
            var s = rune.ToString();
            flag = flag ? s != ")" : s == "(";
            if (!flag && s != ")" && map.TryGetProperty(s, out _))
            {
                Add(s);
                Add("_");
            }
        }

        Add("$");
        Assert.Equal(expected, PiperPhonemizer.ToIds(sentences[0], config));
        Assert.Equal("?", sentences[1][^1]);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Speaks_at_the_config_s_rate_with_sentence_silence_and_the_same_request_gives_the_same_samples()
    {
        using var model = PiperModel.Load(Directory.EnumerateFiles(VoiceFolders.Piper, "*.onnx").Single());
        var voice = new PiperVoice(model, new PiperPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync())), "test");
        Assert.Equal("en_US-test-medium", voice.Id);
        var input = new SpeechInput { Text = "Hello world. How are you?" };
        var pieces = await KokoroVoiceTests.CollectAsync(voice, input);
        Assert.Equal(4, pieces.Count); // two sentences, each followed by its silence
        Assert.All(pieces, p => Assert.Equal(22_050, p.SampleRate));
        Assert.Equal((int)(22_050 * 0.2), pieces[1].Samples.Length);
        Assert.True(pieces[0].Rms() > 0.01);
        Assert.Equal(pieces.SelectMany(p => p.Samples), (await KokoroVoiceTests.CollectAsync(voice, input)).SelectMany(p => p.Samples));
        var changed = await KokoroVoiceTests.CollectAsync(voice, input with { Text = "Hello world. How are we?" });
        Assert.NotEqual(pieces[2].Samples, changed[2].Samples);
        var fast = await KokoroVoiceTests.CollectAsync(voice, input with { Speed = 2 });
        Assert.True(fast[0].Samples.Length < 0.6 * pieces[0].Samples.Length);
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task A_multi_speaker_voice_speaks_differently_per_speaker()
    {
        using var model = PiperModel.Load(Directory.EnumerateFiles(VoiceFolders.PiperMulti, "*.onnx").Single());
        var phonemizer = new PiperPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        var first = new PiperVoice(model, phonemizer, "test", "speaker_0");
        var second = new PiperVoice(model, phonemizer, "test", "speaker_2");
        Assert.Equal("en_US-test-multi:speaker_2", second.Id);
        var input = new SpeechInput { Text = "Good morning." };
        var a = await KokoroVoiceTests.CollectAsync(first, input);
        var b = await KokoroVoiceTests.CollectAsync(second, input);
        Assert.Equal(16_000, a[0].SampleRate);
        Assert.NotEqual(a[0].Samples, b[0].Samples);
        Assert.Throws<ArgumentException>(() => new PiperVoice(model, phonemizer, "test", "nobody"));
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task A_Chinese_voice_reads_with_espeak_s_Mandarin()
    {
        var phonemizer = new PiperPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        var sentences = await phonemizer.PhonemizeAsync("你好，世界。", "cmn", CancellationToken.None);
        var sentence = Assert.Single(sentences);
        Assert.Equal(".", sentence[^1]);
        Assert.Contains(",", sentence);
        Assert.DoesNotContain("(", sentence);
    }

    private static string Espeak(string text)
    {
        var start = new ProcessStartInfo("espeak-ng") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "-q", "--ipa", "-v", "en-us", "--stdin" })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Write(text + "\n");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit(10_000);
        return string.Join(' ', output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
