using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>Split: cuts text at the matches of a pattern.</summary>
internal sealed class SplitPreTokenizer(TokenizerRegex pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    protected override void Split(string text, bool atTextStart, List<string> output) =>
        Splitter.Split(text, pattern.Matches(text), behavior, invert, output);

    // Only a split that removes what it matches loses text: whitespace for the Whitespace and WhitespaceSplit forms,
    // anything for other patterns.
    public override LengthBound? Bound => behavior != SplitBehavior.Removed ? LengthBound.Exact
        : pattern.Source is @"\s+" && !invert || pattern.Source is @"\w+|[^\w\s]+" && invert ? new LengthBound(1, DropsWhitespace: true)
        : null;
}
