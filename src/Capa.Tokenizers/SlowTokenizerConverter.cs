using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Models;
using Capa.Tokenizers.PreTokenizers;

namespace Capa.Tokenizers;

/// <summary>
/// Builds the tokenizer.json that the reference converter produces from a byte-level BPE tokenizer's "slow"
/// files (vocab.json, merges.txt, added tokens), for folders published without tokenizer.json.
/// </summary>
public static class SlowTokenizerConverter
{
    /// <summary>The word pattern of Qwen2Tokenizer (Qwen2, Qwen2.5, Qwen3).</summary>
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Reads vocab.json, merges.txt, tokenizer_config.json (tokenizer_class, added_tokens_decoder, special
    /// tokens) and added_tokens.json from <paramref name="directory"/> and returns tokenizer.json text.
    /// </summary>
    /// <exception cref="FileNotFoundException">vocab.json or merges.txt is missing.</exception>
    /// <exception cref="NotSupportedException">tokenizer_class is not a byte-level BPE class this converter knows.</exception>
    public static string ConvertFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        try
        {
            return Convert(directory);
        }
        catch (JsonException e)
        {
            throw new FormatException($"A tokenizer file in '{directory}' is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new FormatException($"A tokenizer file in '{directory}' has a value of the wrong type: {e.Message}", e);
        }
    }

    private static string Convert(string directory)
    {
        string vocabPath = Path.Combine(directory, "vocab.json");
        string mergesPath = Path.Combine(directory, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
        {
            throw new FileNotFoundException($"'{directory}' needs vocab.json and merges.txt to build a tokenizer.", File.Exists(vocabPath) ? mergesPath : vocabPath);
        }

        string configPath = Path.Combine(directory, "tokenizer_config.json");
        using var config = JsonDocument.Parse(File.Exists(configPath) ? File.ReadAllText(configPath) : "{}");
        var root = config.RootElement;
        string tokenizerClass = root.TryGetProperty("tokenizer_class", out var cls) && cls.ValueKind == JsonValueKind.String ? cls.GetString()! : "GPT2Tokenizer";
        bool qwen = tokenizerClass is "Qwen2Tokenizer" or "Qwen2TokenizerFast";
        if (!qwen && tokenizerClass is not ("GPT2Tokenizer" or "GPT2TokenizerFast" or "CodeGenTokenizer" or "CodeGenTokenizerFast"))
        {
            throw new NotSupportedException($"Cannot build tokenizer.json for tokenizer_class \"{tokenizerClass}\" from vocab.json and merges.txt; only GPT-2 and Qwen2 byte-level BPE are supported.");
        }

        bool addPrefixSpace = root.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True;
        string? unk = qwen ? SpecialContent(root, "unk_token") : null;

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var token in ReadAddedTokens(directory, root).OrderBy(t => t.Id))
            {
                w.WriteStartObject();
                w.WriteNumber("id", token.Id);
                w.WriteString("content", token.Content);
                w.WriteBoolean("single_word", token.SingleWord);
                w.WriteBoolean("lstrip", token.LStrip);
                w.WriteBoolean("rstrip", token.RStrip);
                w.WriteBoolean("normalized", token.Normalized);
                w.WriteBoolean("special", token.Special);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (qwen)
            {
                w.WriteStartObject("normalizer");
                w.WriteString("type", "NFC");
                w.WriteEndObject();
                w.WriteStartObject("pre_tokenizer");
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                w.WriteStartObject();
                w.WriteString("type", "Split");
                w.WriteStartObject("pattern");
                w.WriteString("Regex", Qwen2Pattern);
                w.WriteEndObject();
                w.WriteString("behavior", "Isolated");
                w.WriteBoolean("invert", false);
                w.WriteEndObject();
                WriteByteLevel(w, null, addPrefixSpace: false, useRegex: false);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("normalizer");
                WriteByteLevel(w, "pre_tokenizer", addPrefixSpace, useRegex: true);
            }

            WriteByteLevel(w, "post_processor", addPrefixSpace, useRegex: true);
            WriteByteLevel(w, "decoder", addPrefixSpace, useRegex: true);
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            if (unk is null)
            {
                w.WriteNull("unk_token");
            }
            else
            {
                w.WriteString("unk_token", unk);
            }

            w.WriteString("continuing_subword_prefix", string.Empty);
            w.WriteString("end_of_word_suffix", string.Empty);
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WritePropertyName("vocab");
            using (var vocab = JsonDocument.Parse(File.ReadAllText(vocabPath)))
            {
                if (vocab.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException("vocab.json must hold an object of token to id.");
                }

                vocab.RootElement.WriteTo(w);
            }

            w.WriteStartArray("merges");
            foreach (string line in File.ReadLines(mergesPath))
            {
                if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal))
                {
                    continue;
                }

                var (left, right) = BpeModel.SplitMergeLine(line);
                w.WriteStringValue(left + " " + right);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? name, bool addPrefixSpace, bool useRegex)
    {
        if (name is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(name);
        }

        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    private static List<AddedToken> ReadAddedTokens(string directory, JsonElement config)
    {
        var tokens = new Dictionary<int, AddedToken>();
        if (config.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in decoder.EnumerateObject())
            {
                if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                {
                    throw new FormatException($"added_tokens_decoder key \"{entry.Name}\" is not an id.");
                }

                var v = entry.Value;
                bool special = v.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                string content = v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String
                    ? c.GetString()!
                    : throw new FormatException($"added_tokens_decoder entry {id} has no string \"content\".");
                tokens[id] = new AddedToken(id, content)
                {
                    Special = special,
                    LStrip = Flag(v, "lstrip"),
                    RStrip = Flag(v, "rstrip"),
                    SingleWord = Flag(v, "single_word"),
                    Normalized = v.TryGetProperty("normalized", out var n) ? n.ValueKind == JsonValueKind.True : !special,
                };
            }
        }

        string addedPath = Path.Combine(directory, "added_tokens.json");
        if (File.Exists(addedPath))
        {
            var named = new HashSet<string>(StringComparer.Ordinal);
            foreach (string key in new[] { "bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token" })
            {
                if (SpecialContent(config, key) is { } content)
                {
                    named.Add(content);
                }
            }

            if (config.TryGetProperty("additional_special_tokens", out var extra) && extra.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in extra.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        named.Add(item.GetString()!);
                    }
                }
            }

            using var added = JsonDocument.Parse(File.ReadAllText(addedPath));
            foreach (var entry in added.RootElement.EnumerateObject())
            {
                int id = entry.Value.GetInt32();
                if (!tokens.ContainsKey(id))
                {
                    bool special = named.Contains(entry.Name);
                    tokens[id] = new AddedToken(id, entry.Name) { Special = special, Normalized = !special };
                }
            }
        }

        return [.. tokens.Values];
    }

    private static bool Flag(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static string? SpecialContent(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }
}
