using System.Text.Json;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.PreTokenizers;

/// <summary>When a Metaspace step marks the start of text with its replacement character.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>Metaspace: spaces become '▁', a '▁' is prepended per the scheme, and optionally the text is split before each '▁'.</summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme scheme, bool split) : PreTokenizer
{
    public static MetaspacePreTokenizer FromConfig(JsonElement config) =>
        new(ReadReplacement(config), ReadScheme(config), config.GetBool("split", true));

    /// <summary>Reads "replacement" (one character, '▁' by default).</summary>
    public static char ReadReplacement(JsonElement config)
    {
        string replacement = config.GetString("replacement") ?? "\u2581";
        return replacement.Length == 1 ? replacement[0] : throw new FormatException("Metaspace \"replacement\" must be a single character.");
    }

    /// <summary>Reads "prepend_scheme", or the older boolean "add_prefix_space".</summary>
    public static PrependScheme ReadScheme(JsonElement config) => config.GetString("prepend_scheme") switch
    {
        "always" => PrependScheme.Always,
        "first" => PrependScheme.First,
        "never" => PrependScheme.Never,
        null => config.GetBool("add_prefix_space", true) ? PrependScheme.Always : PrependScheme.Never,
        var other => throw new FormatException($"Unknown Metaspace prepend_scheme \"{other}\"."),
    };

    protected override void Split(string text, bool atTextStart, List<string> output)
    {
        text = text.Replace(' ', replacement);
        if (!text.StartsWith(replacement) && (scheme == PrependScheme.Always || (scheme == PrependScheme.First && atTextStart)))
        {
            text = replacement + text;
        }

        if (!split)
        {
            output.Add(text);
            return;
        }

        var matches = new List<(int, int)>();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == replacement)
            {
                matches.Add((i, 1));
            }
        }

        Splitter.Split(text, matches, SplitBehavior.MergedWithNext, invert: false, output);
    }
}
