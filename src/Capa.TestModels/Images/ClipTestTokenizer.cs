using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Capa.TestModels.Images;

/// <summary>
/// A CLIP tokenizer in the files Stable Diffusion folders ship (<c>vocab.json</c>, <c>merges.txt</c>,
/// <c>special_tokens_map.json</c>, <c>tokenizer_config.json</c>): CLIP's layout (the 256 byte symbols, the same with
/// <c>&lt;/w&gt;</c>, learned merges, then <c>&lt;|startoftext|&gt;</c> and <c>&lt;|endoftext|&gt;</c>) with merges
/// learned from the test corpus, lower-cased and split by CLIP's word pattern.
/// </summary>
internal sealed partial class ClipTestTokenizer
{
    /// <summary>Merges learned; enough for common English words to be one token.</summary>
    public const int MaxMerges = 1500;

    private static readonly Lazy<ClipTestTokenizer> Shared = new(() => new ClipTestTokenizer());

    private ClipTestTokenizer()
    {
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        string corpus = LoadCorpus().ToLowerInvariant();
        foreach (Match match in WordRegex().Matches(corpus))
        {
            string word = string.Concat(Encoding.UTF8.GetBytes(match.Value).Select(ByteLevelBpe.ByteChar));
            words[word] = words.GetValueOrDefault(word) + 1;
        }

        var tokens = new List<string>(512 + MaxMerges + 2);
        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteOrder(b).ToString());
        }

        for (int b = 0; b < 256; b++)
        {
            tokens.Add(ByteOrder(b) + "</w>");
        }

        // Each word as symbols, the last carrying the end-of-word mark.
        var split = words.ToDictionary(
            w => w.Key,
            w => w.Key.Select((c, i) => i == w.Key.Length - 1 ? c + "</w>" : c.ToString()).ToList(),
            StringComparer.Ordinal);
        var merges = new List<(string Left, string Right)>();
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        while (merges.Count < MaxMerges)
        {
            var counts = new Dictionary<(string, string), int>();
            foreach (var (word, symbols) in split)
            {
                int frequency = words[word];
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    counts[pair] = counts.GetValueOrDefault(pair) + frequency;
                }
            }

            if (counts.Count == 0)
            {
                break;
            }

            // Most frequent first; ties broken by the pair's text so the result never depends on dictionary order.
            var best = counts.OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Item2, StringComparer.Ordinal)
                .First().Key;
            if (counts[best] < 2)
            {
                break;
            }

            merges.Add(best);
            string merged = best.Item1 + best.Item2;
            if (known.Add(merged))
            {
                tokens.Add(merged);
            }

            foreach (List<string> symbols in split.Values)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == best.Item1 && symbols[i + 1] == best.Item2)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }

        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");
        Tokens = tokens;
        Merges = merges;
    }

    /// <summary>The shared instance (training takes a moment; the result never changes).</summary>
    public static ClipTestTokenizer Instance => Shared.Value;

    /// <summary>Tokens in id order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Merges in rank order.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>The number of tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>Writes the four tokenizer files into <paramref name="directory"/>; <paramref name="padToken"/> is SD 2's "!" or SD 1's end token.</summary>
    public IReadOnlyList<string> Write(string directory, string padToken)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "vocab.json"), TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            for (int i = 0; i < Tokens.Count; i++)
            {
                w.WriteNumber(Tokens[i], i);
            }

            w.WriteEndObject();
        }));
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Merges)
        {
            merges.Append(left).Append(' ').Append(right).Append('\n');
        }

        File.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString());
        File.WriteAllBytes(Path.Combine(directory, "special_tokens_map.json"), TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            WriteToken(w, "bos_token", "<|startoftext|>");
            WriteToken(w, "eos_token", "<|endoftext|>");
            WriteToken(w, "pad_token", padToken);
            WriteToken(w, "unk_token", "<|endoftext|>");
            w.WriteEndObject();
        }));
        File.WriteAllBytes(Path.Combine(directory, "tokenizer_config.json"), TestTokenizer.Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("add_prefix_space", false);
            w.WriteString("bos_token", "<|startoftext|>");
            w.WriteBoolean("clean_up_tokenization_spaces", true);
            w.WriteBoolean("do_lower_case", true);
            w.WriteString("eos_token", "<|endoftext|>");
            w.WriteString("errors", "replace");
            w.WriteNumber("model_max_length", 77);
            w.WriteString("pad_token", padToken);
            w.WriteString("tokenizer_class", "CLIPTokenizer");
            w.WriteString("unk_token", "<|endoftext|>");
            w.WriteEndObject();
        }));
        string folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        return [.. new[] { "merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json" }.Select(f => folder + "/" + f)];
    }

    private static void WriteToken(Utf8JsonWriter w, string name, string content)
    {
        w.WriteStartObject(name);
        w.WriteString("content", content);
        w.WriteBoolean("lstrip", false);
        w.WriteBoolean("normalized", true);
        w.WriteBoolean("rstrip", false);
        w.WriteBoolean("single_word", false);
        w.WriteEndObject();
    }

    // CLIP's vocabulary lists the byte symbols in bytes_to_unicode's order: printable bytes first, then the rest.
    private static char ByteOrder(int index) => ByteLevelBpe.ByteChar(OrderedBytes.Value[index]);

    private static readonly Lazy<byte[]> OrderedBytes = new(() =>
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        return [.. printable.Concat(Enumerable.Range(0, 256).Where(b => !printable.Contains(b))).Select(b => (byte)b)];
    });

    private static string LoadCorpus()
    {
        Assembly assembly = typeof(ClipTestTokenizer).Assembly;
        const string Resource = "Capa.TestModels.Corpus.txt";
        using Stream stream = assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The embedded corpus '{Resource}' is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+")]
    private static partial Regex WordRegex();
}
