using System.Text;
using Capa.Engine.Speech.Espeak;

namespace Capa.Engine.Speech.Piper;

/// <summary>
/// Piper's phonemes and ids. Piper asks espeak-ng for each clause's phonemes with the clause's terminator
/// (<c>espeak_TextToPhonemesWithTerminator</c>, which Debian's espeak-ng 1.51 lacks), so here the text is cut into
/// clauses at espeak's clause punctuation first and each clause is phonemized alone; then, as Piper does, the phonemes
/// are decomposed (NFD), language-switch flags such as <c>(en)</c> are dropped, the terminator is appended
/// (<c>.</c> <c>?</c> <c>!</c>, or <c>,</c> <c>:</c> <c>;</c> followed by a space), and a sentence ends at
/// <c>. ? !</c>. Ids are <c>^ _ (phoneme _)* $</c>, phonemes missing from the map skipped.
/// </summary>
public sealed class PiperPhonemizer
{
    /// <summary>Version of these rules (part of the voice fingerprint).</summary>
    public const string Version = "piper-clauses/v1";

    private readonly EspeakPhonemizer _espeak;

    /// <summary>Creates a phonemizer on espeak-ng.</summary>
    public PiperPhonemizer(EspeakPhonemizer espeak)
    {
        ArgumentNullException.ThrowIfNull(espeak);
        _espeak = espeak;
    }

    /// <summary>A clause: its text and the punctuation that ended it (or none).</summary>
    public readonly record struct Clause(string Text, char? Terminator)
    {
        /// <summary>Whether the clause ends a sentence.</summary>
        public bool EndsSentence => Terminator is '.' or '?' or '!';
    }

    /// <summary>Cuts text into clauses at espeak-ng's clause punctuation (before a space or the end; full-width forms anywhere).</summary>
    public static IReadOnlyList<Clause> SplitClauses(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clauses = new List<Clause>();
        var current = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            char? terminator = c switch
            {
                '。' or '．' => '.',
                '？' => '?',
                '！' => '!',
                '，' or '、' => ',',
                '：' => ':',
                '；' => ';',
                '.' or '?' or '!' or ',' or ':' or ';' when i + 1 >= text.Length || char.IsWhiteSpace(text[i + 1]) || text[i + 1] is '.' or '?' or '!' => c,
                _ => null,
            };
            if (terminator is null)
            {
                current.Append(c);
                continue;
            }

            // A run of terminators ("?!", "...") counts once, as the last one.
            while (i + 1 < text.Length && text[i + 1] is '.' or '?' or '!')
            {
                terminator = text[++i];
            }

            Add(clauses, current, terminator);
        }

        Add(clauses, current, null);
        return clauses;

        static void Add(List<Clause> clauses, StringBuilder text, char? terminator)
        {
            var clause = text.ToString().Trim();
            text.Clear();
            if (clause.Length > 0)
            {
                clauses.Add(new Clause(clause, terminator));
            }
            else if (terminator is not null && clauses.Count > 0 && clauses[^1].Terminator is null)
            {
                clauses[^1] = clauses[^1] with { Terminator = terminator };
            }
        }
    }

    /// <summary>The phonemes of <paramref name="text"/> as Piper's sentences: each a list of code points (as strings).</summary>
    /// <exception cref="SpeechSynthesisException">espeak-ng failed.</exception>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> PhonemizeAsync(string text, string language, CancellationToken cancellationToken)
    {
        var sentences = new List<IReadOnlyList<string>>();
        List<string>? sentence = null;
        foreach (var clause in SplitClauses(text))
        {
            var lines = await _espeak.PhonemizeAsync(clause.Text, language, cancellationToken).ConfigureAwait(false);
            sentence ??= [];
            AppendPhonemes(sentence, string.Join(' ', lines));
            switch (clause.Terminator)
            {
                case '.' or '?' or '!':
                    sentence.Add(clause.Terminator.Value.ToString());
                    break;
                case ',' or ':' or ';':
                    sentence.Add(clause.Terminator.Value.ToString());
                    sentence.Add(" ");
                    break;
            }

            if (clause.EndsSentence)
            {
                sentences.Add(sentence);
                sentence = null;
            }
        }

        if (sentence is { Count: > 0 })
        {
            sentences.Add(sentence);
        }

        return sentences;
    }

    /// <summary>Appends espeak's IPA decomposed (NFD), code point by code point, without language-switch flags.</summary>
    public static void AppendPhonemes(List<string> phonemes, string ipa)
    {
        ArgumentNullException.ThrowIfNull(phonemes);
        ArgumentNullException.ThrowIfNull(ipa);
        var inFlag = false;
        foreach (var rune in Text.CanonicalDecomposition.Decompose(ipa).EnumerateRunes())
        {
            if (inFlag)
            {
                inFlag = rune.Value != ')';
            }
            else if (rune.Value == '(')
            {
                inFlag = true;
            }
            else
            {
                phonemes.Add(rune.ToString());
            }
        }
    }

    /// <summary>Piper's ids for one sentence: <c>^ _ (phoneme _)* $</c>, after <c>phoneme_map</c>; unknown phonemes skipped.</summary>
    public static long[] ToIds(IReadOnlyList<string> phonemes, PiperConfig config)
    {
        ArgumentNullException.ThrowIfNull(phonemes);
        ArgumentNullException.ThrowIfNull(config);
        var map = config.PhonemeIdMap;
        var pad = map["_"];
        var ids = new List<long>(phonemes.Count * 2 + 3);
        ids.AddRange(map["^"]);
        ids.AddRange(pad);
        foreach (var phoneme in phonemes)
        {
            IEnumerable<string> mapped = config.PhonemeMap.TryGetValue(phoneme, out var replacement) ? replacement : [phoneme];
            foreach (var p in mapped)
            {
                if (map.TryGetValue(p, out var pid))
                {
                    ids.AddRange(pid);
                    ids.AddRange(pad);
                }
            }
        }

        ids.AddRange(map["$"]);
        return [.. ids];
    }
}
