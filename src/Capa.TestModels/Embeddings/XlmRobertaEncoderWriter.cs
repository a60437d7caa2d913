using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.TestModels.Embeddings;

/// <summary>
/// Writes a random-weight XLM-RoBERTa sentence encoder in the layout multilingual-e5, paraphrase-multilingual and bge-m3
/// are published in for ONNX (Xenova/multilingual-e5-small): <c>config.json</c> (<c>model_type: xlm-roberta</c>),
/// <c>tokenizer.json</c> with a SentencePiece Unigram model (pieces and log-probability scores learned from the
/// embedded corpus, <c>Precompiled</c> + whitespace-run normalizer, <c>Metaspace</c> pre-tokenizer, <c>&lt;s&gt; … &lt;/s&gt;</c>
/// template), <c>tokenizer_config.json</c>, <c>1_Pooling/config.json</c> (mean), <c>modules.json</c> and
/// <c>onnx/model.onnx</c> with inputs <c>input_ids</c> and <c>attention_mask</c> (no <c>token_type_ids</c>) and output
/// <c>last_hidden_state</c>, positions numbered from <c>padding_idx + 1</c> inside the graph.
/// </summary>
public static class XlmRobertaEncoderWriter
{
    /// <summary>multilingual-e5-small's vocabulary size.</summary>
    public const int E5SmallVocabularySize = 250_037;

    private const string Metaspace = "\u2581";
    private const int PadId = 1;
    private const int UnkId = 3;
    private static readonly string[] Leading = ["<s>", "<pad>", "</s>", "<unk>"];

    /// <summary>
    /// Writes the folder; returns the vocabulary size. <paramref name="vocabularySize"/> pads the vocabulary with
    /// rare pieces up to that size (multilingual-e5-small's <see cref="E5SmallVocabularySize"/> for benchmarks, where the
    /// embedding table's size matters); null keeps the corpus' pieces only.
    /// </summary>
    public static int Write(BertEncoderSpec spec, string directory, int? vocabularySize = null)
    {
        BertEncoderWriter.CheckArguments(spec, directory);
        var vocab = BuildVocabulary(vocabularySize, spec.Seed);
        BertEncoderWriter.WriteFolder(
            spec,
            directory,
            TokenizerJson(vocab),
            new JsonObject
            {
                ["model_max_length"] = spec.MaxPositions,
                ["tokenizer_class"] = "XLMRobertaTokenizer",
                ["bos_token"] = "<s>",
                ["eos_token"] = "</s>",
                ["cls_token"] = "<s>",
                ["sep_token"] = "</s>",
                ["pad_token"] = "<pad>",
                ["unk_token"] = "<unk>",
                ["mask_token"] = "<mask>",
                ["clean_up_tokenization_spaces"] = true,
            },
            new EncoderConfig(
                "XLMRobertaModel",
                "xlm-roberta",
                spec.MaxPositions + PadId + 1,
                TypeVocabularySize: 1,
                LayerNormEpsilon: 1e-5,
                new JsonObject { ["bos_token_id"] = 0, ["pad_token_id"] = PadId, ["eos_token_id"] = 2 }),
            vocab.Count,
            BertEncoderWriter.BuildGraph(spec, vocab.Count, robertaPadId: PadId, layerNormEpsilon: 1e-5f));
        return vocab.Count;
    }

    /// <summary>
    /// XLM-R's four leading specials, every character of the corpus, then its most frequent multi-character pieces
    /// (word starts carry '▁', as SentencePiece splits at whitespace), each scored by the log of its frequency; rare
    /// filler pieces up to <paramref name="size"/>; <c>&lt;mask&gt;</c> last.
    /// </summary>
    internal static List<(string Piece, double Score)> BuildVocabulary(int? size, ulong seed)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Capa.TestModels.Corpus.txt")!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var corpus = reader.ReadToEnd();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var word in corpus.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var runes = (Metaspace + word).EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (var start = 0; start < runes.Length; start++)
            {
                var piece = new StringBuilder();
                for (var end = start; end < runes.Length && end - start < 10; end++)
                {
                    piece.Append(runes[end]);
                    var text = piece.ToString();
                    counts[text] = counts.GetValueOrDefault(text) + 1;
                }
            }
        }

        var chosen = counts.Where(c => c.Key.EnumerateRunes().Count() == 1)
            .Concat(counts.Where(c => c.Key.EnumerateRunes().Count() > 1 && c.Value >= 2)
                .OrderByDescending(c => c.Value * (c.Key.Length - 1)).ThenBy(c => c.Key, StringComparer.Ordinal).Take(3000))
            .ToList();
        double total = chosen.Sum(c => (double)c.Value);
        var vocab = Leading.Select(s => (s, 0.0)).ToList();
        var seen = new HashSet<string>(Leading, StringComparer.Ordinal) { "<mask>" };

        // A small per-piece offset keeps scores apart, so no two segmentations tie.
        var index = 0;
        foreach (var (piece, count) in chosen.OrderBy(c => -c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            if (seen.Add(piece))
            {
                vocab.Add((piece, Math.Log(count / total) - (++index % 997 * 1e-6)));
            }
        }

        if (size is { } target)
        {
            var lowest = vocab.Skip(Leading.Length).Min(v => v.Item2);
            var state = seed | 1;
            while (vocab.Count < target - 1)
            {
                var length = 3 + (int)(Next(ref state) % 7);
                var piece = new StringBuilder(Metaspace);
                for (var i = 0; i < length; i++)
                {
                    piece.Append((char)('a' + (int)(Next(ref state) % 26)));
                }

                if (seen.Add(piece.ToString()))
                {
                    vocab.Add((piece.ToString(), lowest - 1 - (Next(ref state) % 100_000 * 1e-5)));
                }
            }
        }

        vocab.Add(("<mask>", 0.0));
        return vocab;
    }

    private static ulong Next(ref ulong state)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }

    private static string TokenizerJson(List<(string Piece, double Score)> vocab)
    {
        var pieces = new JsonArray();
        foreach (var (piece, score) in vocab)
        {
            pieces.Add(new JsonArray(piece, score));
        }

        var added = new JsonArray();
        foreach (var (content, id) in Leading.Select((c, i) => (c, i)).Append(("<mask>", vocab.Count - 1)))
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = content == "<mask>", ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }

        JsonObject Special(string name, int type = 0) => new() { ["SpecialToken"] = new JsonObject { ["id"] = name, ["type_id"] = type } };
        JsonObject Sequence(string id) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = 0 } };
        JsonObject SpecialEntry(string name, int id) => new() { ["id"] = name, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(name) };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,

            // Published files carry SentencePiece's nmt_nfkc rule as a binary charsmap; readers apply that rule, so the
            // generated file leaves the blob empty.
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Precompiled", ["precompiled_charsmap"] = "" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = " {2,}" }, ["content"] = " " }),
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = Metaspace, ["prepend_scheme"] = "always", ["split"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("<s>"), Sequence("A"), Special("</s>")),
                ["pair"] = new JsonArray(Special("<s>"), Sequence("A"), Special("</s>"), Special("</s>"), Sequence("B"), Special("</s>")),
                ["special_tokens"] = new JsonObject { ["<s>"] = SpecialEntry("<s>", 0), ["</s>"] = SpecialEntry("</s>", 2) },
            },
            ["decoder"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = Metaspace, ["prepend_scheme"] = "always", ["split"] = true },
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = UnkId, ["vocab"] = pieces, ["byte_fallback"] = false },
        };
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
