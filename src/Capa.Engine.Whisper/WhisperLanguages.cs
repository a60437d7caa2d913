using System.Diagnostics.CodeAnalysis;

namespace Capa.Engine.Whisper;

/// <summary>Whisper's languages: ISO-639-1 codes (as the API's <c>language</c> takes them) and English names (as verbose_json reports them).</summary>
public static class WhisperLanguages
{
    private static readonly (string Code, string Name)[] All =
    [
        ("en", "english"), ("zh", "chinese"), ("de", "german"), ("es", "spanish"), ("ru", "russian"), ("ko", "korean"),
        ("fr", "french"), ("ja", "japanese"), ("pt", "portuguese"), ("tr", "turkish"), ("pl", "polish"), ("ca", "catalan"),
        ("nl", "dutch"), ("ar", "arabic"), ("sv", "swedish"), ("it", "italian"), ("id", "indonesian"), ("hi", "hindi"),
        ("fi", "finnish"), ("vi", "vietnamese"), ("he", "hebrew"), ("uk", "ukrainian"), ("el", "greek"), ("ms", "malay"),
        ("cs", "czech"), ("ro", "romanian"), ("da", "danish"), ("hu", "hungarian"), ("ta", "tamil"), ("no", "norwegian"),
        ("th", "thai"), ("ur", "urdu"), ("hr", "croatian"), ("bg", "bulgarian"), ("lt", "lithuanian"), ("la", "latin"),
        ("mi", "maori"), ("ml", "malayalam"), ("cy", "welsh"), ("sk", "slovak"), ("te", "telugu"), ("fa", "persian"),
        ("lv", "latvian"), ("bn", "bengali"), ("sr", "serbian"), ("az", "azerbaijani"), ("sl", "slovenian"), ("kn", "kannada"),
        ("et", "estonian"), ("mk", "macedonian"), ("br", "breton"), ("eu", "basque"), ("is", "icelandic"), ("hy", "armenian"),
        ("ne", "nepali"), ("mn", "mongolian"), ("bs", "bosnian"), ("kk", "kazakh"), ("sq", "albanian"), ("sw", "swahili"),
        ("gl", "galician"), ("mr", "marathi"), ("pa", "punjabi"), ("si", "sinhala"), ("km", "khmer"), ("sn", "shona"),
        ("yo", "yoruba"), ("so", "somali"), ("af", "afrikaans"), ("oc", "occitan"), ("ka", "georgian"), ("be", "belarusian"),
        ("tg", "tajik"), ("sd", "sindhi"), ("gu", "gujarati"), ("am", "amharic"), ("yi", "yiddish"), ("lo", "lao"),
        ("uz", "uzbek"), ("fo", "faroese"), ("ht", "haitian creole"), ("ps", "pashto"), ("tk", "turkmen"), ("nn", "nynorsk"),
        ("mt", "maltese"), ("sa", "sanskrit"), ("lb", "luxembourgish"), ("my", "myanmar"), ("bo", "tibetan"), ("tl", "tagalog"),
        ("mg", "malagasy"), ("as", "assamese"), ("tt", "tatar"), ("haw", "hawaiian"), ("ln", "lingala"), ("ha", "hausa"),
        ("ba", "bashkir"), ("jw", "javanese"), ("su", "sundanese"), ("yue", "cantonese"),
    ];

    private static readonly Dictionary<string, string> NameByCode = All.ToDictionary(l => l.Code, l => l.Name, StringComparer.Ordinal);
    private static readonly Dictionary<string, string> CodeByName = All.ToDictionary(l => l.Name, l => l.Code, StringComparer.Ordinal);

    /// <summary>Every code, in Whisper's token order.</summary>
    public static IReadOnlyList<string> Codes { get; } = [.. All.Select(l => l.Code)];

    /// <summary>The English name of a code (<c>en</c> → <c>english</c>).</summary>
    public static bool TryGetName(string code, [NotNullWhen(true)] out string? name) => NameByCode.TryGetValue(code, out name);

    /// <summary>
    /// Normalises what a caller wrote as a language: a code (<c>EN</c>, <c>zh</c>), an English name (<c>German</c>), or
    /// one of Whisper's aliases (<c>mandarin</c>, <c>castilian</c>, …) to its code.
    /// </summary>
    public static bool TryNormalize(string? text, [NotNullWhen(true)] out string? code)
    {
        code = null;
        string key = (text ?? "").Trim().ToLowerInvariant();
        if (key.Length == 0)
        {
            return false;
        }

        if (NameByCode.ContainsKey(key))
        {
            code = key;
            return true;
        }

        if (CodeByName.TryGetValue(key, out code))
        {
            return true;
        }

        code = key switch
        {
            "burmese" => "my", "valencian" => "ca", "flemish" => "nl", "haitian" => "ht", "letzeburgesch" => "lb",
            "pushto" => "ps", "panjabi" => "pa", "moldavian" or "moldovan" => "ro", "sinhalese" => "si",
            "castilian" => "es", "mandarin" => "zh",
            _ => null,
        };
        return code is not null;
    }
}
