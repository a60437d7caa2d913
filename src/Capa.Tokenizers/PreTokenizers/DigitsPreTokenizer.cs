using System.Globalization;
using System.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>Digits: separates runs of numeric characters (or each one, with individual_digits) from the rest.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : PreTokenizer
{
    protected override void Split(string text, bool atTextStart, List<string> output)
    {
        var matches = new List<(int, int)>();
        int i = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber)
            {
                matches.Add((i, rune.Utf16SequenceLength));
            }

            i += rune.Utf16SequenceLength;
        }

        Splitter.Split(text, matches, individualDigits ? SplitBehavior.Isolated : SplitBehavior.Contiguous, invert: false, output);
    }
}
