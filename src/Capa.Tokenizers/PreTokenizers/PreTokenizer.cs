using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>A tokenizer.json pre-tokenizer: splits (and may rewrite) text into the words BPE sees.</summary>
internal abstract class PreTokenizer
{
    /// <summary>Splits each piece; <paramref name="atTextStart"/> says the text began at the input's first character.</summary>
    public List<string> PreTokenize(List<string> pieces, bool atTextStart)
    {
        var output = new List<string>(pieces.Count * 2);
        for (int i = 0; i < pieces.Count; i++)
        {
            Split(pieces[i], atTextStart && i == 0, output);
        }

        return output;
    }

    /// <summary>Appends the non-empty pieces of <paramref name="text"/> to <paramref name="output"/>.</summary>
    protected abstract void Split(string text, bool atTextStart, List<string> output);

    /// <summary>How much of the text the pieces can lose; null when unbounded. Most pre-tokenizers lose nothing.</summary>
    public virtual LengthBound? Bound => LengthBound.Exact;

    /// <summary>Builds the pre-tokenizer a tokenizer.json "pre_tokenizer" object declares (null when absent).</summary>
    public static PreTokenizer? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }

        string type = JsonConfig.TypeOf(config, "pre_tokenizer");
        return type switch
        {
            "ByteLevel" => new ByteLevelPreTokenizer(config.GetBool("add_prefix_space", false), config.GetBool("use_regex", true)),
            "Split" => new SplitPreTokenizer(config.GetPattern("pattern"), ParseBehavior(config.GetString("behavior")), config.GetBool("invert", false)),
            "Metaspace" => MetaspacePreTokenizer.FromConfig(config),
            "Digits" => new DigitsPreTokenizer(config.GetBool("individual_digits", false)),
            "Whitespace" => new SplitPreTokenizer(TokenizerRegex.FromOniguruma(@"\w+|[^\w\s]+"), SplitBehavior.Removed, invert: true),
            "WhitespaceSplit" => new SplitPreTokenizer(TokenizerRegex.FromOniguruma(@"\s+"), SplitBehavior.Removed, invert: false),
            "Punctuation" => new SplitPreTokenizer(TokenizerRegex.FromOniguruma(@"[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]"), ParseBehavior(config.GetString("behavior") ?? "Isolated"), invert: false),
            "Sequence" => new SequencePreTokenizer(ReadList(config)),
            _ => throw new NotSupportedException($"tokenizer.json pre_tokenizer type \"{type}\" is not supported."),
        };
    }

    private static SplitBehavior ParseBehavior(string? behavior) => behavior switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" or null => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw new FormatException($"Unknown split behavior \"{behavior}\" in tokenizer.json."),
    };

    private static List<PreTokenizer> ReadList(JsonElement config)
    {
        var list = new List<PreTokenizer>();
        var items = config.Get("pretokenizers");
        if (items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (Create(item) is { } preTokenizer)
                {
                    list.Add(preTokenizer);
                }
            }
        }

        return list;
    }
}

internal sealed class SequencePreTokenizer(List<PreTokenizer> steps) : PreTokenizer
{
    public override LengthBound? Bound => LengthBound.Combine(steps.Select(s => s.Bound));

    protected override void Split(string text, bool atTextStart, List<string> output)
    {
        var pieces = new List<string> { text };
        foreach (var step in steps)
        {
            pieces = step.PreTokenize(pieces, atTextStart);
        }

        output.AddRange(pieces);
    }
}
