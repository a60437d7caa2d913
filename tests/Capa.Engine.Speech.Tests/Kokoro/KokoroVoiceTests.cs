using System.Runtime.InteropServices;
using Capa.Engine.Speech.Espeak;
using Capa.Engine.Speech.Kokoro;
using Capa.Media.Audio;
using Capa.Media.Tests;

namespace Capa.Engine.Speech.Tests.Kokoro;

public sealed class KokoroVoiceTests
{
    [Fact]
    public void Loads_the_folder_with_its_voices_and_inputs()
    {
        using var model = KokoroModel.Load(VoiceFolders.Kokoro);
        Assert.Contains("af_heart", model.Voices);
        Assert.Contains("bm_fable", model.Voices);
        Assert.Equal(510 * 256, model.Styles("af_heart").Length);
        Assert.True(KokoroModel.IsKokoroFolder(VoiceFolders.Kokoro));
    }

    [Fact]
    public void A_folder_without_voices_or_with_a_foreign_graph_is_refused_with_the_reason()
    {
        var directory = Path.Combine(Path.GetTempPath(), "capa-kokoro-broken-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        try
        {
            File.Copy(Path.Combine(VoiceFolders.Kokoro, "tokenizer.json"), Path.Combine(directory, "tokenizer.json"));
            File.Copy(Path.Combine(VoiceFolders.Kokoro, "onnx", "model.onnx"), Path.Combine(directory, "onnx", "model.onnx"));
            var error = Assert.Throws<VoiceFolderException>(() => KokoroModel.Load(directory));
            Assert.Contains("voices", error.Message, StringComparison.Ordinal);

            Directory.CreateDirectory(Path.Combine(directory, "voices"));
            File.WriteAllBytes(Path.Combine(directory, "voices", "af_x.bin"), new byte[1000]);
            File.Copy(Directory.EnumerateFiles(VoiceFolders.Piper, "*.onnx").Single(), Path.Combine(directory, "onnx", "model.onnx"), overwrite: true);
            error = Assert.Throws<VoiceFolderException>(() => KokoroModel.Load(directory));
            Assert.Contains("not a Kokoro graph", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_output_depends_on_ids_voice_and_speed()
    {
        using var model = KokoroModel.Load(VoiceFolders.Kokoro);
        long[] ids = [0, 50, 83, 54, 156, 57, 135, 0];
        var baseline = model.Synthesize(ids, "af_heart", 1f);
        Assert.Equal(baseline, model.Synthesize(ids, "af_heart", 1f));
        Assert.NotEqual(baseline, model.Synthesize([0, 50, 83, 54, 156, 57, 136, 0], "af_heart", 1f));
        Assert.NotEqual(baseline, model.Synthesize(ids, "am_echo", 1f));
        var fast = model.Synthesize(ids, "af_heart", 2f);
        Assert.True(fast.Length < baseline.Length * 0.6, $"speed 2 gave {fast.Length} samples against {baseline.Length}");
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task Speaks_sentence_by_sentence_and_the_same_request_gives_the_same_samples()
    {
        using var model = KokoroModel.Load(VoiceFolders.Kokoro);
        var phonemizer = new KokoroPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        var voice = new KokoroVoice(model, "af_heart", phonemizer, "test");
        var input = new SpeechInput { Text = "Hello world. How are you today?" };
        var pieces = await CollectAsync(voice, input);
        Assert.Equal(2, pieces.Count);
        Assert.All(pieces, p => Assert.Equal(24_000, p.SampleRate));
        Assert.Equal(pieces.SelectMany(p => p.Samples), (await CollectAsync(voice, input)).SelectMany(p => p.Samples));
        var longer = await CollectAsync(voice, input with { Text = input.Text + " I am fine, thank you very much." });
        Assert.True(longer.Sum(p => p.Samples.Length) > pieces.Sum(p => p.Samples.Length));
        var slower = await CollectAsync(voice, input with { Speed = 0.5 });
        Assert.True(slower.Sum(p => p.Samples.Length) > 1.8 * pieces.Sum(p => p.Samples.Length));
        var other = await CollectAsync(new KokoroVoice(model, "bf_emma", phonemizer, "test"), input);
        Assert.NotEqual(pieces.SelectMany(p => p.Samples), other.SelectMany(p => p.Samples));
    }

    [Fact]
    public void Long_phoneme_strings_are_cut_at_spaces_within_the_model_s_limit()
    {
        Assert.True(KokoroTokenizer.TryLoad(Path.Combine(VoiceFolders.Kokoro, "tokenizer.json"), out var tokenizer, out _));
        var phonemes = string.Join(' ', Enumerable.Repeat("həlˈoʊ", 150));
        var pieces = KokoroVoice.CutToFit(phonemes, tokenizer).ToList();
        Assert.True(pieces.Count >= 2);
        Assert.All(pieces, p => Assert.True(tokenizer.CountSymbols(p) <= KokoroTokenizer.MaxPhonemes));
        Assert.Equal(phonemes.Replace(" ", "", StringComparison.Ordinal), string.Concat(pieces).Replace(" ", "", StringComparison.Ordinal));
    }

    [RequiresKokoroOracleFact]
    public async Task Audio_equals_kokoro_js_running_the_same_folder()
    {
        // kokoro-js reads its own (real) voice tables: the folder gets the same table, so both sides use one style.
        var directory = Path.Combine(Path.GetTempPath(), "capa-kokoro-oracle-" + Guid.NewGuid().ToString("N"));
        var audio = Path.Combine(directory, "audio");
        Directory.CreateDirectory(audio);
        try
        {
            CopyDirectory(VoiceFolders.Kokoro, Path.Combine(directory, "model"));
            File.Copy(KokoroOracle.VoiceTable("af_bella"), Path.Combine(directory, "model", "voices", "af_bella.bin"), overwrite: true);
            string[] texts = ["The sky above the port was the color of television.", "Hello there, my friend!"];
            var expected = KokoroOracle.Run(Path.Combine(directory, "model"), texts, "af_bella", 1.25, audio);

            using var model = KokoroModel.Load(Path.Combine(directory, "model"));
            var voice = new KokoroVoice(model, "af_bella", new KokoroPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync())), "test");
            foreach (var sentence in expected)
            {
                var reference = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(Path.Combine(audio, $"{sentence.Index}-0.f32"))).ToArray();
                var ours = (await CollectAsync(voice, new SpeechInput { Text = sentence.Text, Speed = 1.25 })).Single().Samples;
                Assert.Equal(reference.Length, ours.Length);
                var worst = reference.Zip(ours, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst < 1e-4, $"'{sentence.Text}': samples differ by up to {worst}");
                Assert.True(new PcmAudio(24_000, ours).Rms() > 0.01, "the reference audio is silent");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    internal static async Task<List<PcmAudio>> CollectAsync(ISpeechVoice voice, SpeechInput input)
    {
        var pieces = new List<PcmAudio>();
        await foreach (var piece in voice.SynthesizeAsync(input, CancellationToken.None))
        {
            pieces.Add(piece);
        }

        return pieces;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
