namespace Capa.Engine.Speech.Text;

/// <summary>
/// Picks an espeak-ng language from the writing system of a piece of text: Chinese characters are read as Mandarin
/// (<c>cmn</c>), kana as Japanese, Hangul as Korean, and so on; text in Latin letters (or nothing recognisable) gets the
/// configured default. Kana wins over Han, since Japanese text mixes both.
/// </summary>
public static class ScriptLanguage
{
    /// <summary>The language for <paramref name="text"/>, or <paramref name="fallback"/>.</summary>
    public static string Detect(ReadOnlySpan<char> text, string fallback)
    {
        int han = 0, kana = 0, hangul = 0, cyrillic = 0, greek = 0, arabic = 0, hebrew = 0, devanagari = 0, thai = 0, latin = 0;
        foreach (var c in text)
        {
            switch (c)
            {
                case >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF':
                    han++;
                    break;
                case >= '\u3040' and <= '\u30FF':
                    kana++;
                    break;
                case >= '\uAC00' and <= '\uD7AF' or >= '\u1100' and <= '\u11FF':
                    hangul++;
                    break;
                case >= '\u0400' and <= '\u04FF':
                    cyrillic++;
                    break;
                case >= '\u0370' and <= '\u03FF':
                    greek++;
                    break;
                case >= '\u0600' and <= '\u06FF':
                    arabic++;
                    break;
                case >= '\u0590' and <= '\u05FF':
                    hebrew++;
                    break;
                case >= '\u0900' and <= '\u097F':
                    devanagari++;
                    break;
                case >= '\u0E00' and <= '\u0E7F':
                    thai++;
                    break;
                case >= 'A' and <= 'Z' or >= 'a' and <= 'z':
                    latin++;
                    break;
                default:
                    break;
            }
        }

        if (kana > 0)
        {
            return "ja";
        }

        (int Count, string Language)[] scripts =
        [
            (han, "cmn"), (hangul, "ko"), (cyrillic, "ru"), (greek, "el"), (arabic, "ar"), (hebrew, "he"), (devanagari, "hi"), (thai, "th"),
        ];
        var best = scripts.MaxBy(s => s.Count);

        // A few foreign words in a Latin sentence do not switch its language; a Chinese sentence with a Latin name does.
        return best.Count > 0 && (best.Language == "cmn" || best.Count >= latin) ? best.Language : fallback;
    }
}
