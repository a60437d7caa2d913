using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>ByteLevel: optionally splits with GPT-2's pattern, then spells each piece's UTF-8 bytes in the byte alphabet.</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    /// <summary>GPT-2's word pattern.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Lazy<TokenizerRegex> Gpt2Regex = new(() => TokenizerRegex.FromOniguruma(Gpt2Pattern));

    protected override void Split(string text, bool atTextStart, List<string> output)
    {
        if (addPrefixSpace && !text.StartsWith(' '))
        {
            text = " " + text;
        }

        if (!useRegex)
        {
            output.Add(ByteLevelAlphabet.EncodeText(text));
            return;
        }

        var words = new List<string>();
        Splitter.Split(text, Gpt2Regex.Value.Matches(text), SplitBehavior.Isolated, invert: false, words);
        foreach (string word in words)
        {
            output.Add(ByteLevelAlphabet.EncodeText(word));
        }
    }
}
