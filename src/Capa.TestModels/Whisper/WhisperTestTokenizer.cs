using System.Globalization;

namespace Capa.TestModels.Whisper;

/// <summary>
/// A multilingual Whisper tokenizer: the shared byte-level BPE (GPT-2 pre-tokenization, as Whisper's), then Whisper's
/// special tokens in their real order — <c>&lt;|endoftext|&gt;</c>, <c>&lt;|startoftranscript|&gt;</c>, the 99 language
/// tokens, <c>&lt;|translate|&gt;</c>, <c>&lt;|transcribe|&gt;</c>, <c>&lt;|startoflm|&gt;</c>, <c>&lt;|startofprev|&gt;</c>,
/// <c>&lt;|nocaptions|&gt;</c>, <c>&lt;|notimestamps|&gt;</c> and the 1501 timestamps <c>&lt;|0.00|&gt;</c> … <c>&lt;|30.00|&gt;</c>.
/// Ids are offset by the smaller learned vocabulary, not the real 50,257; engines read them from the files.
/// </summary>
internal sealed class WhisperTestTokenizer
{
    /// <summary>Whisper's language codes in token order (openai/whisper <c>tokenizer.py</c>; large-v3 appends yue).</summary>
    public static readonly IReadOnlyList<string> LanguageCodes =
    [
        "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id", "hi", "fi", "vi",
        "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk",
        "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw",
        "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo",
        "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su",
    ];

    private readonly List<string> _specials = [];

    public WhisperTestTokenizer()
    {
        Bpe = TestTokenizer.SharedBpe;
        _specials.Add("<|endoftext|>");
        _specials.Add("<|startoftranscript|>");
        _specials.AddRange(LanguageCodes.Select(code => "<|" + code + "|>"));
        _specials.AddRange(["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]);
        TimestampBegin = Bpe.Tokens.Count + _specials.Count;
        for (int i = 0; i <= 1500; i++)
        {
            _specials.Add("<|" + (i * 0.02).ToString("0.00", CultureInfo.InvariantCulture) + "|>");
        }
    }

    public ByteLevelBpe Bpe { get; }

    /// <summary>Number of token ids the tokenizer defines.</summary>
    public int Count => Bpe.Tokens.Count + _specials.Count;

    /// <summary>Id of <c>&lt;|0.00|&gt;</c>.</summary>
    public int TimestampBegin { get; }

    public int IdOf(string special)
    {
        int index = _specials.IndexOf(special);
        return index >= 0 ? Bpe.Tokens.Count + index : throw new InvalidOperationException($"The Whisper tokenizer has no token '{special}'.");
    }

    public byte[] TokenizerJson() => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        for (int i = 0; i < _specials.Count; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("id", Bpe.Tokens.Count + i);
            w.WriteString("content", _specials[i]);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            // Timestamps are added as plain tokens in the published tokenizers; the rest are special.
            w.WriteBoolean("special", Bpe.Tokens.Count + i < TimestampBegin);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNull("normalizer");
        WriteByteLevel(w, "pre_tokenizer", useRegex: true);
        WriteByteLevel(w, "post_processor", useRegex: true);
        WriteByteLevel(w, "decoder", useRegex: true);
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WriteStartObject("vocab");
        for (int i = 0; i < Bpe.Tokens.Count; i++)
        {
            w.WriteNumber(Bpe.Tokens[i], i);
        }

        w.WriteEndObject();
        w.WriteStartArray("merges");
        foreach (var (left, right) in Bpe.Merges)
        {
            w.WriteStringValue(Bpe.Tokens[left] + " " + Bpe.Tokens[right]);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public byte[] TokenizerConfigJson() => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", false);
        w.WriteBoolean("add_prefix_space", false);
        w.WriteStartObject("added_tokens_decoder");
        for (int i = 0; i < _specials.Count; i++)
        {
            w.WriteStartObject((Bpe.Tokens.Count + i).ToString(CultureInfo.InvariantCulture));
            w.WriteString("content", _specials[i]);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", Bpe.Tokens.Count + i < TimestampBegin);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartArray("additional_special_tokens");
        foreach (string token in _specials.Skip(1).Take(TimestampBegin - Bpe.Tokens.Count - 1))
        {
            w.WriteStringValue(token);
        }

        w.WriteEndArray();
        w.WriteString("bos_token", "<|endoftext|>");
        w.WriteBoolean("clean_up_tokenization_spaces", true);
        w.WriteString("eos_token", "<|endoftext|>");
        w.WriteString("errors", "replace");
        w.WriteNumber("model_max_length", 1024);
        w.WriteString("pad_token", "<|endoftext|>");
        w.WriteString("processor_class", "WhisperProcessor");
        w.WriteBoolean("return_attention_mask", false);
        w.WriteString("tokenizer_class", "WhisperTokenizer");
        w.WriteString("unk_token", "<|endoftext|>");
        w.WriteEndObject();
    });

    public static byte[] SpecialTokensMapJson() => TestTokenizer.Json(w =>
    {
        w.WriteStartObject();
        foreach (string key in new[] { "bos_token", "eos_token", "pad_token", "unk_token" })
        {
            w.WriteString(key, "<|endoftext|>");
        }

        w.WriteEndObject();
    });

    private static void WriteByteLevel(System.Text.Json.Utf8JsonWriter w, string propertyName, bool useRegex)
    {
        w.WriteStartObject(propertyName);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }
}
