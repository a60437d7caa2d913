using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Capa.Engine.Speech.Espeak;

namespace Capa.Engine.Speech.Kokoro;

/// <summary>
/// Kokoro's phonemes, as kokoro-js makes them for English: the text normalized (quotes, abbreviations, years, times,
/// money, decimals), cut at punctuation, each stretch between punctuation phonemized by espeak-ng (<c>en-us</c> for
/// American voices, <c>en</c> for British ones) with its lines joined by spaces, the punctuation kept as it was, then
/// espeak's symbols mapped to Kokoro's (<c>r</c>→<c>ɹ</c>, <c>x</c>→<c>k</c>, <c>ʲ</c>→<c>j</c>, ...). Other
/// languages take espeak-ng's phonemes with the same punctuation handling and symbol mapping.
/// </summary>
public sealed partial class KokoroPhonemizer
{
    /// <summary>Punctuation Kokoro keeps as tokens; text is cut at runs of it.</summary>
    public const string Punctuation = ";:,.!?¡¿—…\"«»“”(){}[]";

    /// <summary>Version of these rules (part of the voice fingerprint).</summary>
    public const string Version = "kokoro-js-1.2.1/v1";

    private readonly EspeakPhonemizer _espeak;

    /// <summary>Creates a phonemizer on espeak-ng.</summary>
    public KokoroPhonemizer(EspeakPhonemizer espeak)
    {
        ArgumentNullException.ThrowIfNull(espeak);
        _espeak = espeak;
    }

    /// <summary>The espeak-ng language of a Kokoro voice, from its name's first letter (<c>af_heart</c> → <c>en-us</c>).</summary>
    public static string LanguageOf(string voiceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(voiceName);
        return voiceName[0] switch
        {
            'b' => "en",
            'e' => "es",
            'f' => "fr-fr",
            'h' => "hi",
            'i' => "it",
            'j' => "ja",
            'p' => "pt-br",
            'z' => "cmn",
            _ => "en-us",
        };
    }

    /// <summary>The phonemes of <paramref name="text"/> in <paramref name="language"/> (an espeak-ng language).</summary>
    /// <exception cref="SpeechSynthesisException">espeak-ng failed.</exception>
    public async Task<string> PhonemizeAsync(string text, string language, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(language);
        var english = language is "en-us" or "en" or "en-gb";
        if (english)
        {
            text = Normalize(text);
        }

        var joined = new StringBuilder();
        foreach (var (isPunctuation, piece) in SplitAtPunctuation(text))
        {
            if (isPunctuation)
            {
                joined.Append(piece);
            }
            else
            {
                joined.AppendJoin(' ', await _espeak.PhonemizeAsync(piece, language, cancellationToken).ConfigureAwait(false));
            }
        }

        return MapSymbols(joined.ToString(), american: language == "en-us");
    }

    /// <summary>Kokoro's English text normalization (kokoro-js <c>normalize_text</c>).</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Replace('‘', '\'').Replace('’', '\'')
            .Replace("«", "“", StringComparison.Ordinal).Replace("»", "”", StringComparison.Ordinal)
            .Replace('“', '"').Replace('”', '"')
            .Replace("(", "«", StringComparison.Ordinal).Replace(")", "»", StringComparison.Ordinal)
            .Replace("、", ", ", StringComparison.Ordinal).Replace("。", ". ", StringComparison.Ordinal)
            .Replace("！", "! ", StringComparison.Ordinal).Replace("，", ", ", StringComparison.Ordinal)
            .Replace("：", ": ", StringComparison.Ordinal).Replace("；", "; ", StringComparison.Ordinal)
            .Replace("？", "? ", StringComparison.Ordinal);
        text = OtherWhitespace().Replace(text, " ");
        text = DoubleSpace().Replace(text, " ", 1); // kokoro-js replaces only the first run
        text = BlankLineSpaces().Replace(text, "");
        text = Doctor().Replace(text, "Doctor");
        text = Mister().Replace(text, "Mister");
        text = Miss().Replace(text, "Miss");
        text = Mrs().Replace(text, "Mrs");
        text = Etc().Replace(text, "etc");
        text = Yeah().Replace(text, m => m.Groups[1].Value + "e'a");
        text = NumberToSplit().Replace(text, m => SplitNumber(m.Value));
        text = ThousandsComma().Replace(text, "");
        text = Money().Replace(text, m => FlipMoney(m.Value));
        text = Decimal().Replace(text, m => PointNumber(m.Value));
        text = NumberRange().Replace(text, " to ");
        text = DigitThenS().Replace(text, " S");
        text = ConsonantPossessive().Replace(text, "'S");
        text = XPossessive().Replace(text, "s");
        text = Initialisms().Replace(text, m => m.Value.Replace('.', '-'));
        text = LetterDotLetter().Replace(text, "-");
        return text.Trim();
    }

    /// <summary>Cuts text at runs of <see cref="Punctuation"/> (with the spaces around them), keeping both kinds of piece.</summary>
    public static IEnumerable<(bool IsPunctuation, string Text)> SplitAtPunctuation(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var previous = 0;
        foreach (Match match in PunctuationRun().Matches(text))
        {
            if (previous < match.Index)
            {
                yield return (false, text[previous..match.Index]);
            }

            if (match.Length > 0)
            {
                yield return (true, match.Value);
            }

            previous = match.Index + match.Length;
        }

        if (previous < text.Length)
        {
            yield return (false, text[previous..]);
        }
    }

    /// <summary>espeak-ng's symbols mapped to Kokoro's vocabulary, as kokoro-js does.</summary>
    public static string MapSymbols(string phonemes, bool american)
    {
        ArgumentNullException.ThrowIfNull(phonemes);
        var s = phonemes.Replace("kəkˈoːɹoʊ", "kˈoʊkəɹoʊ", StringComparison.Ordinal)
            .Replace("kəkˈɔːɹəʊ", "kˈəʊkəɹəʊ", StringComparison.Ordinal)
            .Replace('ʲ', 'j').Replace('r', 'ɹ').Replace('x', 'k').Replace('ɬ', 'l');
        s = BeforeHundred().Replace(s, " ");
        s = SpaceZ().Replace(s, "z");
        if (american)
        {
            s = NinetyTi().Replace(s, "di");
        }

        return s.Trim();
    }

    private static string SplitNumber(string value)
    {
        if (value.Contains('.', StringComparison.Ordinal))
        {
            return value;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            var parts = value.Split(':');
            var hour = int.Parse(parts[0], CultureInfo.InvariantCulture);
            var minute = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return minute == 0 ? $"{hour} o'clock" : minute < 10 ? $"{hour} oh {minute}" : $"{hour} {minute}";
        }

        var year = int.Parse(value[..4], CultureInfo.InvariantCulture);
        if (year < 1100 || year % 1000 < 10)
        {
            return value;
        }

        var left = value[..2];
        var right = int.Parse(value[2..4], CultureInfo.InvariantCulture);
        var suffix = value.EndsWith('s') ? "s" : "";
        if (year % 1000 is >= 100 and <= 999)
        {
            if (right == 0)
            {
                return $"{left} hundred{suffix}";
            }

            if (right < 10)
            {
                return $"{left} oh {right}{suffix}";
            }
        }

        return $"{left} {right}{suffix}";
    }

    private static string FlipMoney(string value)
    {
        var unit = value[0] == '$' ? "dollar" : "pound";
        var amount = value[1..];
        if (!IsJsNumber(amount))
        {
            return $"{amount} {unit}s";
        }

        if (!amount.Contains('.', StringComparison.Ordinal))
        {
            return $"{amount} {unit}{(amount == "1" ? "" : "s")}";
        }

        var dot = amount.IndexOf('.', StringComparison.Ordinal);
        var whole = amount[..dot];
        var fraction = amount[(dot + 1)..];
        var cents = int.Parse(fraction.PadRight(2, '0'), CultureInfo.InvariantCulture);
        var small = value[0] == '$' ? (cents == 1 ? "cent" : "cents") : (cents == 1 ? "penny" : "pence");
        return $"{whole} {unit}{(whole == "1" ? "" : "s")} and {cents} {small}";
    }

    // What JavaScript's Number() accepts among the strings the money pattern can match: digits with at most one dot.
    private static bool IsJsNumber(string value) => JsNumber().IsMatch(value);

    private static string PointNumber(string value)
    {
        var dot = value.IndexOf('.', StringComparison.Ordinal);
        return value[..dot] + " point " + string.Join(' ', value[(dot + 1)..].ToCharArray());
    }

    [GeneratedRegex(@"(\s*[;:,.!?¡¿—…""«»“”(){}\[\]]+\s*)+")]
    private static partial Regex PunctuationRun();

    [GeneratedRegex(@"[^\S \n]")]
    private static partial Regex OtherWhitespace();

    [GeneratedRegex("  +")]
    private static partial Regex DoubleSpace();

    [GeneratedRegex(@"(?<=\n) +(?=\n)")]
    private static partial Regex BlankLineSpaces();

    [GeneratedRegex(@"\bD[Rr]\.(?= [A-Z])")]
    private static partial Regex Doctor();

    [GeneratedRegex(@"\b(?:Mr\.|MR\.(?= [A-Z]))")]
    private static partial Regex Mister();

    [GeneratedRegex(@"\b(?:Ms\.|MS\.(?= [A-Z]))")]
    private static partial Regex Miss();

    [GeneratedRegex(@"\b(?:Mrs\.|MRS\.(?= [A-Z]))")]
    private static partial Regex Mrs();

    [GeneratedRegex(@"\betc\.(?! [A-Z])", RegexOptions.IgnoreCase)]
    private static partial Regex Etc();

    [GeneratedRegex(@"\b(y)eah?\b", RegexOptions.IgnoreCase)]
    private static partial Regex Yeah();

    [GeneratedRegex(@"[0-9]*\.[0-9]+|\b[0-9]{4}s?\b|(?<!:)\b(?:[1-9]|1[0-2]):[0-5][0-9]\b(?!:)")]
    private static partial Regex NumberToSplit();

    [GeneratedRegex("(?<=[0-9]),(?=[0-9])")]
    private static partial Regex ThousandsComma();

    [GeneratedRegex(@"[$£][0-9]+(?:\.[0-9]+)?(?: hundred| thousand| (?:[bm]|tr)illion)*\b|[$£][0-9]+\.[0-9][0-9]?\b", RegexOptions.IgnoreCase)]
    private static partial Regex Money();

    [GeneratedRegex(@"^[0-9]+(?:\.[0-9]*)?$")]
    private static partial Regex JsNumber();

    [GeneratedRegex(@"[0-9]*\.[0-9]+")]
    private static partial Regex Decimal();

    [GeneratedRegex("(?<=[0-9])-(?=[0-9])")]
    private static partial Regex NumberRange();

    [GeneratedRegex("(?<=[0-9])S")]
    private static partial Regex DigitThenS();

    [GeneratedRegex(@"(?<=[BCDFGHJ-NP-TV-Z])'?s\b")]
    private static partial Regex ConsonantPossessive();

    [GeneratedRegex(@"(?<=X')S\b")]
    private static partial Regex XPossessive();

    [GeneratedRegex("(?:[A-Za-z]\\.){2,} [a-z]")]
    private static partial Regex Initialisms();

    [GeneratedRegex(@"(?<=[A-Z])\.(?=[A-Z])", RegexOptions.IgnoreCase)]
    private static partial Regex LetterDotLetter();

    [GeneratedRegex("(?<=[a-zɹː])(?=hˈʌndɹɪd)")]
    private static partial Regex BeforeHundred();

    [GeneratedRegex(@" z(?=[;:,.!?¡¿—…""«»“” ]|$)")]
    private static partial Regex SpaceZ();

    [GeneratedRegex("(?<=nˈaɪn)ti(?!ː)")]
    private static partial Regex NinetyTi();
}
