using System.Text;
using System.Text.Json;
using Capa.Tokenizers.Models;

namespace Capa.Tokenizers.Clip;

/// <summary>
/// The CLIP text tokenizer of Stable Diffusion pipelines: NFC, runs of whitespace to one space, lower-casing, CLIP's
/// word pattern, byte-level BPE with <c>&lt;/w&gt;</c> word ends, wrapped in <c>&lt;|startoftext|&gt;</c> ...
/// <c>&lt;|endoftext|&gt;</c> and padded to the text encoder's length with the folder's pad token.
/// Built from <c>tokenizer.json</c> when the folder has one, else from <c>vocab.json</c> and <c>merges.txt</c> the way
/// the reference converter (CLIPConverter) does.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>CLIP's word pattern (the reference tokenizer's <c>pat</c>).</summary>
    public const string WordPattern = @"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    /// <summary>The start token's text.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The end token's text.</summary>
    public const string EndOfText = "<|endoftext|>";

    private readonly HfTokenizer _tokenizer;

    private ClipTokenizer(HfTokenizer tokenizer, int bos, int eos, int pad, int maxLength)
    {
        _tokenizer = tokenizer;
        BosId = bos;
        EosId = eos;
        PadId = pad;
        MaxLength = maxLength;
    }

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public int BosId { get; }

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public int EosId { get; }

    /// <summary>Id of the pad token (<c>&lt;|endoftext|&gt;</c> in SD 1.x, <c>!</c> in SD 2.x and SD-Turbo).</summary>
    public int PadId { get; }

    /// <summary>The text encoder's sequence length (<c>model_max_length</c>, 77).</summary>
    public int MaxLength { get; }

    /// <summary>The underlying tokenizer.</summary>
    public HfTokenizer Inner => _tokenizer;

    /// <summary>Reads <c>tokenizer/</c> of a diffusers folder.</summary>
    /// <exception cref="FileNotFoundException">Neither tokenizer.json nor vocab.json and merges.txt are there.</exception>
    /// <exception cref="FormatException">A file is malformed.</exception>
    public static ClipTokenizer FromFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string json = File.Exists(Path.Combine(directory, "tokenizer.json"))
            ? File.ReadAllText(Path.Combine(directory, "tokenizer.json"))
            : ToTokenizerJson(
                File.ReadAllText(Path.Combine(directory, "vocab.json")),
                File.ReadLines(Path.Combine(directory, "merges.txt")));
        HfTokenizer tokenizer = HfTokenizer.FromJson(json);
        int bos = tokenizer.TokenToId(StartOfText) ?? throw new FormatException($"The vocabulary has no {StartOfText}.");
        int eos = tokenizer.TokenToId(EndOfText) ?? throw new FormatException($"The vocabulary has no {EndOfText}.");
        string padText = ReadSpecial(directory, "special_tokens_map.json", "pad_token")
            ?? ReadSpecial(directory, "tokenizer_config.json", "pad_token")
            ?? EndOfText;
        int pad = tokenizer.TokenToId(padText) ?? eos;
        int maxLength = ReadMaxLength(directory) ?? 77;
        return new ClipTokenizer(tokenizer, bos, eos, pad, maxLength);
    }

    /// <summary>The token ids of <paramref name="text"/> without start and end tokens, not truncated.</summary>
    public int[] EncodeText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.Encode(text, addSpecialTokens: false);
    }

    /// <summary>
    /// The encoder's input: start token, the text's tokens truncated to <see cref="MaxLength"/> − 2, end token, then pad
    /// tokens up to <see cref="MaxLength"/>; <paramref name="textTokens"/> is how many text tokens were kept.
    /// </summary>
    public int[] EncodePadded(string text, out int textTokens)
    {
        int[] ids = EncodeText(text);
        textTokens = Math.Min(ids.Length, MaxLength - 2);
        var result = new int[MaxLength];
        result[0] = BosId;
        ids.AsSpan(0, textTokens).CopyTo(result.AsSpan(1));
        result[textTokens + 1] = EosId;
        result.AsSpan(textTokens + 2).Fill(PadId);
        return result;
    }

    /// <summary>The tokenizer.json the reference converter builds from CLIP's <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    public static string ToTokenizerJson(string vocabJson, IEnumerable<string> mergeLines)
    {
        ArgumentNullException.ThrowIfNull(vocabJson);
        ArgumentNullException.ThrowIfNull(mergeLines);
        using var vocab = JsonDocument.Parse(vocabJson);
        if (vocab.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("vocab.json must hold an object of token to id.");
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (string special in new[] { StartOfText, EndOfText })
            {
                if (vocab.RootElement.TryGetProperty(special, out var id) && id.TryGetInt32(out int value))
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", value);
                    w.WriteString("content", special);
                    w.WriteBoolean("single_word", false);
                    w.WriteBoolean("lstrip", false);
                    w.WriteBoolean("rstrip", false);
                    w.WriteBoolean("normalized", true);
                    w.WriteBoolean("special", true);
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteStartObject("normalizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("normalizers");
            w.WriteStartObject();
            w.WriteString("type", "NFC");
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "Replace");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", @"\s+");
            w.WriteEndObject();
            w.WriteString("content", " ");
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("type", "Lowercase");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", WordPattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Removed");
            w.WriteBoolean("invert", true);
            w.WriteEndObject();
            WriteByteLevel(w, null);
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("post_processor");
            w.WriteString("type", "RobertaProcessing");
            w.WriteStartArray("sep");
            w.WriteStringValue(EndOfText);
            w.WriteNumberValue(IdOf(vocab.RootElement, EndOfText));
            w.WriteEndArray();
            w.WriteStartArray("cls");
            w.WriteStringValue(StartOfText);
            w.WriteNumberValue(IdOf(vocab.RootElement, StartOfText));
            w.WriteEndArray();
            w.WriteBoolean("trim_offsets", false);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteEndObject();
            WriteByteLevel(w, "decoder");

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteString("unk_token", EndOfText);
            w.WriteString("continuing_subword_prefix", "");
            w.WriteString("end_of_word_suffix", "</w>");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WritePropertyName("vocab");
            vocab.RootElement.WriteTo(w);
            w.WriteStartArray("merges");
            foreach (string line in mergeLines)
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

    private static int IdOf(JsonElement vocab, string token) =>
        vocab.TryGetProperty(token, out var id) && id.TryGetInt32(out int value) ? value : throw new FormatException($"The vocabulary has no {token}.");

    private static void WriteByteLevel(Utf8JsonWriter w, string? name)
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
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    private static string? ReadSpecial(string directory, string file, string name)
    {
        string path = Path.Combine(directory, file);
        if (!File.Exists(path))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => null,
        };
    }

    private static int? ReadMaxLength(string directory)
    {
        string path = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(path))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("model_max_length", out var value)
            && value.TryGetInt32(out int length) && length is >= 3 and <= 4096
            ? length
            : null;
    }
}
