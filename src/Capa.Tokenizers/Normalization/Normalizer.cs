using System.Globalization;
using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Normalization;

/// <summary>A tokenizer.json normalizer: rewrites text before it is split into words.</summary>
internal abstract class Normalizer
{
    public abstract string Normalize(string text);

    /// <summary>How much shorter normalized text can be than its input; null when it can vanish (unbounded).</summary>
    public virtual LengthBound? Bound => LengthBound.Exact;

    /// <summary>Builds the normalizer a tokenizer.json "normalizer" object declares (null when absent).</summary>
    public static Normalizer? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }

        string type = JsonConfig.TypeOf(config, "normalizer");
        return type switch
        {
            "NFC" => new UnicodeFormNormalizer(UnicodeForm.Nfc),
            "NFD" => new UnicodeFormNormalizer(UnicodeForm.Nfd),
            "NFKC" => new UnicodeFormNormalizer(UnicodeForm.Nfkc),
            "NFKD" => new UnicodeFormNormalizer(UnicodeForm.Nfkd),
            "Lowercase" => new LowercaseNormalizer(),
            "Prepend" => new PrependNormalizer(config.GetString("prepend") ?? throw new FormatException("Prepend normalizer needs \"prepend\".")),
            "Replace" => new ReplaceNormalizer(config.GetPattern("pattern"), config.GetString("content") ?? string.Empty),
            "Strip" => new StripNormalizer(config.GetBool("strip_left", true), config.GetBool("strip_right", true)),
            "StripAccents" => new StripAccentsNormalizer(),
            "Precompiled" => new PrecompiledNormalizer(),
            "Sequence" => new SequenceNormalizer(ReadList(config)),
            _ => throw new NotSupportedException($"tokenizer.json normalizer type \"{type}\" is not supported."),
        };
    }

    private static List<Normalizer> ReadList(JsonElement config)
    {
        var list = new List<Normalizer>();
        var items = config.Get("normalizers");
        if (items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (Create(item) is { } normalizer)
                {
                    list.Add(normalizer);
                }
            }
        }

        return list;
    }
}

internal sealed class UnicodeFormNormalizer(UnicodeForm form) : Normalizer
{
    public override string Normalize(string text) => UnicodeNormalizer.Normalize(text, form);

    // Canonical composition joins at most a base and three marks (a Hangul syllable: three jamo) into one unit;
    // decomposition only lengthens.
    public override LengthBound? Bound => form is UnicodeForm.Nfc or UnicodeForm.Nfkc ? new LengthBound(4, false) : LengthBound.Exact;
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}

internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    // An empty string stays empty: there is nothing to mark the start of.
    public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
}

internal sealed class ReplaceNormalizer(TokenizerRegex pattern, string content) : Normalizer
{
    public override string Normalize(string text) => pattern.Replace(text, content);

    // A literal replaced by something no shorter keeps the length; a shorter replacement shrinks by the ratio; a regex
    // can match anything, so nothing is known.
    public override LengthBound? Bound => !pattern.IsLiteral || (content.Length == 0 && pattern.Source.Length > 0)
        ? null
        : new LengthBound(Math.Max(1, (double)pattern.Source.Length / content.Length), false);
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override string Normalize(string text) => (left, right) switch
    {
        (true, true) => text.Trim(),
        (true, false) => text.TrimStart(),
        (false, true) => text.TrimEnd(),
        _ => text,
    };

    public override LengthBound? Bound => new LengthBound(1, DropsWhitespace: left || right);
}

internal sealed class StripAccentsNormalizer : Normalizer
{
    public override LengthBound? Bound => null;

    public override string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                sb.Append(rune.ToString());
            }
        }

        return sb.ToString();
    }
}

internal sealed class SequenceNormalizer(List<Normalizer> normalizers) : Normalizer
{
    public override LengthBound? Bound => LengthBound.Combine(normalizers.Select(n => n.Bound));

    public override string Normalize(string text)
    {
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }

        return text;
    }
}
