using System.Text;

namespace Capa.Tokenizers.Normalization;

/// <summary>
/// SentencePiece's <c>Precompiled</c> normalizer with the <c>nmt_nfkc</c> rule that XLM-RoBERTa, multilingual-e5 and
/// the other published SentencePiece models carry in their <c>precompiled_charsmap</c>: control characters dropped,
/// the Unicode spaces, line and paragraph separators, zero-width characters, U+2581 and U+FFFD made a plain space,
/// then NFKC except that the fullwidth tilde U+FF5E stays itself. This is the rule transformers.js applies; the
/// charsmap blob itself is not interpreted, so a model trained with another rule (identity, case folding) is
/// normalized as nmt_nfkc.
/// </summary>
internal sealed class PrecompiledNormalizer : Normalizer
{
    private const char FullwidthTilde = '\uFF5E';

    // Dropping control characters shrinks text without bound.
    public override LengthBound? Bound => null;

    public override string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (IsDropped(c))
            {
                continue;
            }

            builder.Append(IsSpace(c) ? ' ' : c);
        }

        string cleaned = builder.ToString();
        if (!cleaned.Contains(FullwidthTilde, StringComparison.Ordinal))
        {
            return UnicodeNormalizer.Normalize(cleaned, UnicodeForm.Nfkc);
        }

        var parts = cleaned.Split(FullwidthTilde);
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = UnicodeNormalizer.Normalize(parts[i], UnicodeForm.Nfkc);
        }

        return string.Join(FullwidthTilde, parts);
    }

    private static bool IsDropped(char c) =>
        c is (>= '\u0001' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F' or '\u008F' or '\u009F';

    private static bool IsSpace(char c) =>
        c is '\u0009' or '\u000A' or '\u000C' or '\u000D' or '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200F')
            or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u2581' or '\u3000' or '\uFEFF' or '\uFFFD';
}
