using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Capa.TestModels;

/// <summary>
/// The tokenizer of a generated model: a byte-level BPE trained on an embedded English and Chinese corpus
/// (which includes the product's origin tutorial), numbered with the family's special tokens around it.
/// </summary>
internal sealed class TestTokenizer
{
    /// <summary>Upper bound on learned merges; training stops earlier when no pair occurs twice.</summary>
    public const int MaxMerges = 2600;

    private static readonly Lazy<ByteLevelBpe> TrainedBpe = new(() => ByteLevelBpe.Train(LoadCorpus(), MaxMerges));

    private readonly Dictionary<string, int> _specialIds = new(StringComparer.Ordinal);

    private TestTokenizer(TestModelFamily family)
    {
        Family = family;
        Bpe = TrainedBpe.Value;
        for (int i = 0; i < family.LeadingTokens.Count; i++)
        {
            _specialIds.Add(family.LeadingTokens[i].Content, i);
            // Leading tokens share model.vocab with the learned tokens, so a clash would make two ids one key.
            if (Bpe.Tokens.Contains(family.LeadingTokens[i].Content))
            {
                throw new InvalidOperationException($"The learned vocabulary already holds '{family.LeadingTokens[i].Content}'.");
            }
        }

        int next = BpeOffset + Bpe.Tokens.Count;
        foreach (FamilyToken token in family.TrailingTokens)
        {
            _specialIds.Add(token.Content, next++);
        }

        Count = next;
    }

    /// <summary>The byte-level BPE every generated tokenizer shares, trained once per process.</summary>
    internal static ByteLevelBpe SharedBpe => TrainedBpe.Value;

    public TestModelFamily Family { get; }

    public ByteLevelBpe Bpe { get; }

    /// <summary>Id of the first byte token (after the leading special tokens).</summary>
    public int BpeOffset => Family.LeadingTokens.Count;

    /// <summary>Number of token ids the tokenizer defines.</summary>
    public int Count { get; }

    public static TestTokenizer For(TestModelFamily family) => new(family);

    public int IdOf(string specialToken) => _specialIds.TryGetValue(specialToken, out int id)
        ? id
        : throw new InvalidOperationException($"The {Family.ModelType} tokenizer has no token '{specialToken}'.");

    /// <summary>
    /// Encodes plain text (no special tokens, no BOS) as the tokenizer.json does. Llama's pattern groups digits
    /// by three where Qwen's splits them, but the merges never join digits (training used Qwen's pattern), so
    /// both give the same ids.
    /// </summary>
    public IReadOnlyList<int> EncodeText(string text) => [.. Bpe.Encode(text).Select(id => id + BpeOffset)];

    private IEnumerable<(int Id, FamilyToken Token)> SpecialTokens()
    {
        for (int i = 0; i < Family.LeadingTokens.Count; i++)
        {
            yield return (i, Family.LeadingTokens[i]);
        }

        foreach (FamilyToken token in Family.TrailingTokens)
        {
            yield return (IdOf(token.Content), token);
        }
    }

    public byte[] TokenizerJson()
    {
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var (id, token) in SpecialTokens())
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", token.Content);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("special", token.Special);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (Family.NfcNormalizer)
            {
                w.WriteStartObject("normalizer");
                w.WriteString("type", "NFC");
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("normalizer");
            }

            w.WriteStartObject("pre_tokenizer");
            w.WriteString("type", "Sequence");
            w.WriteStartArray("pretokenizers");
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", Family.PreTokenizerPattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
            WriteByteLevel(w, null);
            w.WriteEndArray();
            w.WriteEndObject();

            if (Family.AddBos)
            {
                w.WriteStartObject("post_processor");
                w.WriteString("type", "Sequence");
                w.WriteStartArray("processors");
                WriteByteLevel(w, null);
                WriteBosTemplate(w);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                WriteByteLevel(w, "post_processor");
            }

            WriteByteLevel(w, "decoder");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            w.WriteNull("unk_token");
            w.WriteString("continuing_subword_prefix", "");
            w.WriteString("end_of_word_suffix", "");
            w.WriteBoolean("fuse_unk", false);
            w.WriteBoolean("byte_fallback", false);
            w.WriteBoolean("ignore_merges", false);
            w.WriteStartObject("vocab");
            for (int i = 0; i < Family.LeadingTokens.Count; i++)
            {
                w.WriteNumber(Family.LeadingTokens[i].Content, i);
            }

            for (int i = 0; i < Bpe.Tokens.Count; i++)
            {
                w.WriteNumber(Bpe.Tokens[i], i + BpeOffset);
            }

            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var (left, right) in Bpe.Merges)
            {
                w.WriteStringValue(Bpe.Tokens[left] + " " + Bpe.Tokens[right]);
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    public byte[] TokenizerConfigJson(string chatTemplate, int modelMaxLength)
    {
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", Family.AddBos);
            w.WriteBoolean("add_eos_token", false);
            w.WriteBoolean("add_prefix_space", false);
            w.WriteStartObject("added_tokens_decoder");
            foreach (var (id, token) in SpecialTokens())
            {
                w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                w.WriteString("content", token.Content);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("special", token.Special);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteStartArray("additional_special_tokens");
            foreach (string token in AdditionalSpecialTokens())
            {
                w.WriteStringValue(token);
            }

            w.WriteEndArray();
            WriteNullable(w, "bos_token", Family.BosToken);
            w.WriteString("chat_template", chatTemplate);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            w.WriteString("eos_token", Family.EosToken);
            w.WriteString("errors", "replace");
            w.WriteNumber("model_max_length", modelMaxLength);
            WriteNullable(w, "pad_token", Family.PadToken);
            w.WriteBoolean("split_special_tokens", false);
            w.WriteString("tokenizer_class", Family.TokenizerClass);
            WriteNullable(w, "unk_token", Family.UnkToken);
            w.WriteEndObject();
        });
    }

    public byte[] SpecialTokensMapJson()
    {
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("additional_special_tokens");
            foreach (string token in AdditionalSpecialTokens())
            {
                w.WriteStringValue(token);
            }

            w.WriteEndArray();
            foreach (var (key, value) in new[] { ("bos_token", Family.BosToken), ("eos_token", Family.EosToken), ("pad_token", Family.PadToken), ("unk_token", Family.UnkToken) })
            {
                if (value is null)
                {
                    continue;
                }

                w.WriteStartObject(key);
                w.WriteString("content", value);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("normalized", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("single_word", false);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        });
    }

    /// <summary>Writes indented JSON with non-ASCII text unescaped, as Hugging Face files are.</summary>
    internal static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    private IEnumerable<string> AdditionalSpecialTokens()
    {
        string?[] named = [Family.BosToken, Family.EosToken, Family.PadToken, Family.UnkToken];
        return Family.TrailingTokens.Where(t => t.Special && !named.Contains(t.Content)).Select(t => t.Content);
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? propertyName)
    {
        if (propertyName is null)
        {
            w.WriteStartObject();
        }
        else
        {
            w.WriteStartObject(propertyName);
        }

        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", false);
        w.WriteBoolean("use_regex", false);
        w.WriteEndObject();
    }

    private void WriteBosTemplate(Utf8JsonWriter w)
    {
        string bos = Family.BosToken!;
        w.WriteStartObject();
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        WritePiece(w, "SpecialToken", bos, 0);
        WritePiece(w, "Sequence", "A", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        WritePiece(w, "SpecialToken", bos, 0);
        WritePiece(w, "Sequence", "A", 0);
        WritePiece(w, "SpecialToken", bos, 1);
        WritePiece(w, "Sequence", "B", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        w.WriteStartObject(bos);
        w.WriteString("id", bos);
        w.WriteStartArray("ids");
        w.WriteNumberValue(IdOf(bos));
        w.WriteEndArray();
        w.WriteStartArray("tokens");
        w.WriteStringValue(bos);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WritePiece(Utf8JsonWriter w, string kind, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject(kind);
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string LoadCorpus()
    {
        Assembly assembly = typeof(TestTokenizer).Assembly;
        const string Resource = "Capa.TestModels.Corpus.txt";
        using Stream stream = assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The embedded corpus '{Resource}' is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, new UTF8Encoding(false, true));
        // Line endings are normalised so a checkout with CRLF trains the same tokenizer.
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
