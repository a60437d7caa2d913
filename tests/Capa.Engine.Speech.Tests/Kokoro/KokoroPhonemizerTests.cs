using Capa.TestModels.Speech;
using Capa.Engine.Speech.Espeak;
using Capa.Engine.Speech.Kokoro;
using Capa.Media.Tests;

namespace Capa.Engine.Speech.Tests.Kokoro;

public sealed class KokoroPhonemizerTests
{
    /// <summary>English sentences with what kokoro-js normalizes: numbers, years, times, money, abbreviations, quotes.</summary>
    public static readonly string[] Corpus =
    [
        "Hello world!",
        "The quick brown fox jumps over the lazy dog.",
        "Kokoro is an open-weight text to speech model with eighty two million parameters.",
        "In 1990, it cost $5.50, but in 2024 it was £12.",
        "Meet me at 10:30 or at 7:05, not at 3:00.",
        "Dr. Smith and Mr. Jones met Mrs. Brown at 3.14 past noon.",
        "“Quoted text,” she said; then (quietly) she left…",
        "Yeah, the 1980s were great — weren't they?",
        "Pages 10-20 cover the years 1900 to 1909.",
        "She read 1,234,567 pages in ninety days.",
        "What's your name, by the way? I'm Alex.",
        "The U.S.A. has fifty states, and the U.K. has four countries.",
        "Numbers like 0.5 and .75 are decimals.",
        "Wow! Really? Yes: absolutely.",
        "A hundred and twenty people walked three hundred miles.",
        "The café's naïve owner served crème brûlée.",
        "Contact us at info@example.com or visit example.org today.",
        "It's 5 o'clock somewhere, isn't it?",
        "He paid $1 for one apple and $2.01 for two.",
        "Tomorrow, and tomorrow, and tomorrow, creeps in this petty pace from day to day.",
    ];

    [Fact]
    public void Normalizes_numbers_money_times_and_titles_as_kokoro_js()
    {
        Assert.Equal("In 19 90, it cost 5 dollars and 50 cents.", KokoroPhonemizer.Normalize("In 1990, it cost $5.50."));
        Assert.Equal("10 30 or 7 oh 5 or 3 o'clock", KokoroPhonemizer.Normalize("10:30 or 7:05 or 3:00"));
        Assert.Equal("Doctor Smith and Mister Jones", KokoroPhonemizer.Normalize("Dr. Smith and Mr. Jones"));
        Assert.Equal("3 point 1 4 and 1 pound", KokoroPhonemizer.Normalize("3.14 and £1"));
        Assert.Equal("\"quoted\" «aside»", KokoroPhonemizer.Normalize("“quoted” (aside)"));
        Assert.Equal("pages 10 to 20, 19 hundred, 19 oh 5, 1234567", KokoroPhonemizer.Normalize("pages 10-20, 1900, 1905, 1,234,567"));
    }

    [Fact]
    public void Keeps_punctuation_runs_apart_from_the_words()
    {
        var pieces = KokoroPhonemizer.SplitAtPunctuation("Hi, there... ok").ToList();
        Assert.Equal([(false, "Hi"), (true, ", "), (false, "there"), (true, "... "), (false, "ok")], pieces);
    }

    [Fact]
    public void Maps_espeak_symbols_to_kokoro_s()
    {
        Assert.Equal("kˈoʊkəɹoʊ ɹ k l j", KokoroPhonemizer.MapSymbols("kəkˈoːɹoʊ r x ɬ ʲ", american: true));
        Assert.Equal("nˈaɪndi", KokoroPhonemizer.MapSymbols("nˈaɪnti", american: true));
        Assert.Equal("nˈaɪnti", KokoroPhonemizer.MapSymbols("nˈaɪnti", american: false));
        Assert.Equal("wˈʌn hˈʌndɹɪd", KokoroPhonemizer.MapSymbols("wˈʌnhˈʌndɹɪd", american: true));
    }

    [Fact]
    public void The_tokenizer_pads_both_ends_and_drops_unknown_symbols()
    {
        Assert.True(KokoroTokenizer.TryLoad(Path.Combine(VoiceFolders.Kokoro, "tokenizer.json"), out var tokenizer, out var error), error);
        Assert.Equal([0, 50, 83, 54, 5, 0], tokenizer.Encode("həl§!"));
        Assert.Equal(KokoroTokenizer.MaxPhonemes + 2, tokenizer.Encode(new string('a', 600)).Length);
    }

    [RequiresKokoroOracleFact]
    public async Task Phonemes_and_ids_equal_kokoro_js_on_an_English_corpus()
    {
        var expected = KokoroOracle.Run(VoiceFolders.Kokoro, Corpus);
        Assert.True(expected.Count >= Corpus.Length, "kokoro-js spoke fewer sentences than the corpus has.");
        var phonemizer = new KokoroPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        Assert.True(KokoroTokenizer.TryLoad(Path.Combine(VoiceFolders.Kokoro, "tokenizer.json"), out var tokenizer, out _));
        var mismatches = new List<string>();
        foreach (var sentence in expected)
        {
            var phonemes = await phonemizer.PhonemizeAsync(sentence.Text, "en-us", CancellationToken.None);
            if (phonemes != sentence.Phonemes || !tokenizer.Encode(phonemes).SequenceEqual(sentence.Ids))
            {
                mismatches.Add($"{sentence.Text}\n  capa:      {phonemes}\n  kokoro-js: {sentence.Phonemes}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [RequiresToolsFact("espeak-ng")]
    public async Task British_voices_read_with_espeak_s_British_English()
    {
        var phonemizer = new KokoroPhonemizer(new EspeakPhonemizer(await VoiceFolders.EspeakAsync()));
        Assert.Equal("en", KokoroPhonemizer.LanguageOf("bf_emma"));
        var american = await phonemizer.PhonemizeAsync("Tomato and water.", "en-us", CancellationToken.None);
        var british = await phonemizer.PhonemizeAsync("Tomato and water.", "en", CancellationToken.None);
        Assert.NotEqual(american, british);
        Assert.EndsWith(".", british, StringComparison.Ordinal);
    }
}
