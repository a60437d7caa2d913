using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>Split: cuts text at the matches of a pattern.</summary>
internal sealed class SplitPreTokenizer(TokenizerRegex pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    protected override void Split(string text, bool atTextStart, List<string> output) =>
        Splitter.Split(text, pattern.Matches(text), behavior, invert, output);
}
