using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Models.Onnx;

namespace Capa.TestModels.Embeddings;

/// <summary>Shapes and seed of a random-weight BERT sentence encoder.</summary>
public sealed record BertEncoderSpec
{
    /// <summary>Hidden size (the embedding dimension).</summary>
    public int Hidden { get; init; } = 32;

    /// <summary>Transformer layers.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Attention heads (dividing <see cref="Hidden"/>).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Feed-forward size.</summary>
    public int Intermediate { get; init; } = 64;

    /// <summary>Longest input in tokens.</summary>
    public int MaxPositions { get; init; } = 512;

    /// <summary>Mean pooling (all-MiniLM, e5) or the CLS token (bge).</summary>
    public bool MeanPooling { get; init; } = true;

    /// <summary>Seeds every weight.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The shapes of multilingual-e5-small and all-MiniLM-L6-v2 (384 wide, 12 heads, 1536 feed-forward), for benchmarks.</summary>
    public static BertEncoderSpec Small(int layers = 6) => new() { Hidden = 384, Layers = layers, Heads = 12, Intermediate = 1536 };
}

/// <summary>
/// Writes a random-weight BERT encoder in the layout sentence-transformers models are published in for ONNX
/// (Xenova/all-MiniLM-L6-v2, onnx-community bge): <c>config.json</c>, <c>tokenizer.json</c> (WordPiece, lowercase),
/// <c>tokenizer_config.json</c>, <c>1_Pooling/config.json</c>, <c>modules.json</c> and <c>onnx/model.onnx</c> with
/// inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> and output <c>last_hidden_state</c>.
/// </summary>
public static class BertEncoderWriter
{
    private static readonly string[] Specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>Writes the folder; returns the vocabulary size.</summary>
    public static int Write(BertEncoderSpec spec, string directory)
    {
        CheckArguments(spec, directory);
        var vocab = BuildVocabulary();
        WriteFolder(
            spec,
            directory,
            TokenizerJson(vocab),
            new JsonObject
            {
                ["do_lower_case"] = true,
                ["model_max_length"] = spec.MaxPositions,
                ["tokenizer_class"] = "BertTokenizer",
                ["cls_token"] = "[CLS]",
                ["sep_token"] = "[SEP]",
                ["pad_token"] = "[PAD]",
                ["unk_token"] = "[UNK]",
                ["mask_token"] = "[MASK]",
            },
            new EncoderConfig("BertModel", "bert", spec.MaxPositions, TypeVocabularySize: 2, LayerNormEpsilon: 1e-12, new JsonObject { ["pad_token_id"] = 0 }),
            vocab.Count,
            BuildGraph(spec, vocab.Count));
        return vocab.Count;
    }

    /// <summary>Refuses a spec whose heads do not divide its hidden size, and a missing folder name.</summary>
    internal static void CheckArguments(BertEncoderSpec spec, string directory)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (spec.Hidden % spec.Heads != 0)
        {
            throw new ArgumentException("The hidden size must be a multiple of the head count.", nameof(spec));
        }
    }

    /// <summary>
    /// Writes what every encoder folder holds, the same way for each architecture: <c>tokenizer.json</c>,
    /// <c>tokenizer_config.json</c>, <c>config.json</c> (the shapes of <paramref name="spec"/> with the architecture's own
    /// fields of <paramref name="config"/>), sentence-transformers' files and <c>onnx/model.onnx</c>.
    /// </summary>
    internal static void WriteFolder(BertEncoderSpec spec, string directory, string tokenizerJson, JsonObject tokenizerConfig, EncoderConfig config, int vocabularySize, OnnxGraph graph)
    {
        Directory.CreateDirectory(Path.Combine(directory, "onnx"));
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizerJson);
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), tokenizerConfig.ToJsonString());
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(config.Architecture),
            ["model_type"] = config.ModelType,
            ["hidden_size"] = spec.Hidden,
            ["num_hidden_layers"] = spec.Layers,
            ["num_attention_heads"] = spec.Heads,
            ["intermediate_size"] = spec.Intermediate,
            ["max_position_embeddings"] = config.MaxPositionEmbeddings,
            ["vocab_size"] = vocabularySize,
            ["type_vocab_size"] = config.TypeVocabularySize,
            ["layer_norm_eps"] = config.LayerNormEpsilon,
            ["hidden_act"] = "gelu",
        };
        foreach (var (name, value) in config.TokenIds)
        {
            json[name] = value?.DeepClone();
        }

        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        WriteSentenceTransformerFiles(directory, spec.Hidden, spec.MeanPooling);
        OnnxModelWriter.Write(graph, Path.Combine(directory, "onnx", "model.onnx"));
    }

    /// <summary>
    /// sentence-transformers' files beside the model: <c>1_Pooling/config.json</c> (mean or CLS pooling) and
    /// <c>modules.json</c> (transformer, pooling, normalize), as published encoder folders carry them.
    /// </summary>
    internal static void WriteSentenceTransformerFiles(string directory, int hidden, bool meanPooling)
    {
        Directory.CreateDirectory(Path.Combine(directory, "1_Pooling"));
        File.WriteAllText(Path.Combine(directory, "1_Pooling", "config.json"), new JsonObject
        {
            ["word_embedding_dimension"] = hidden,
            ["pooling_mode_cls_token"] = !meanPooling,
            ["pooling_mode_mean_tokens"] = meanPooling,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        }.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "modules.json"), """
            [{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]
            """);
    }

    /// <summary>Specials, then the corpus' characters (alone and as <c>##</c> continuations), then its frequent words.</summary>
    internal static List<string> BuildVocabulary()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Capa.TestModels.Corpus.txt")!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var corpus = reader.ReadToEnd().ToLowerInvariant();
        var vocab = new List<string>(Specials);
        var seen = new HashSet<string>(Specials, StringComparer.Ordinal);
        void Add(string token)
        {
            if (seen.Add(token))
            {
                vocab.Add(token);
            }
        }

        var characters = corpus.EnumerateRunes().Where(r => !Rune.IsWhiteSpace(r) && !Rune.IsControl(r)).Select(r => r.ToString()).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToList();
        foreach (var c in "abcdefghijklmnopqrstuvwxyz0123456789".Select(c => c.ToString()).Concat(characters))
        {
            Add(c);
        }

        foreach (var c in "abcdefghijklmnopqrstuvwxyz0123456789".Select(c => c.ToString()).Concat(characters))
        {
            Add("##" + c);
        }

        var words = corpus.Split([' ', '\n', '\r', '\t', '.', ',', '!', '?', ':', ';', '"', '(', ')'], StringSplitOptions.RemoveEmptyEntries)
            .Where(w => w.Length > 1 && w.All(char.IsAsciiLetter))
            .GroupBy(w => w, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(400)
            .Select(g => g.Key);
        foreach (var word in words)
        {
            Add(word);
            if (word.Length > 3)
            {
                Add("##" + word[2..]);
            }
        }

        return vocab;
    }

    private static string TokenizerJson(List<string> vocab)
    {
        var vocabObject = new JsonObject();
        for (var i = 0; i < vocab.Count; i++)
        {
            vocabObject[vocab[i]] = i;
        }

        var added = new JsonArray();
        for (var i = 0; i < Specials.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = i, ["content"] = Specials[i], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }

        JsonObject Special(string name) => new() { ["SpecialToken"] = new JsonObject { ["id"] = name, ["type_id"] = 0 } };
        JsonObject Sequence(string id, int type) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = type } };
        JsonObject SpecialEntry(string name) => new() { ["id"] = name, ["ids"] = new JsonArray(vocab.IndexOf(name)), ["tokens"] = new JsonArray(name) };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = true },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]"), Sequence("A", 0), Special("[SEP]")),
                ["pair"] = new JsonArray(Special("[CLS]"), Sequence("A", 0), Special("[SEP]"), Sequence("B", 1), new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "[SEP]", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject { ["[CLS]"] = SpecialEntry("[CLS]"), ["[SEP]"] = SpecialEntry("[SEP]") },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocabObject,
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>
    /// The encoder graph. BERT takes <c>token_type_ids</c> and numbers positions from 0; with
    /// <paramref name="robertaPadId"/> it is RoBERTa's (XLM-R's): no <c>token_type_ids</c> input (one type row added
    /// to every token), positions counted over the non-padding tokens from <c>padding_idx + 1</c>, as the published
    /// exports compute them inside the graph.
    /// </summary>
    internal static OnnxGraph BuildGraph(BertEncoderSpec s, int vocabSize, long? robertaPadId = null, float layerNormEpsilon = 1e-12f)
    {
        const string Batch = "batch_size", Sequence = "sequence_length";
        var g = new OnnxGraphBuilder();
        int h = s.Hidden, heads = s.Heads, d = s.Hidden / s.Heads;
        string ids = g.Input("input_ids", OnnxDataType.Int64, Batch, Sequence);
        string mask = g.Input("attention_mask", OnnxDataType.Int64, Batch, Sequence);
        string? types = robertaPadId is null ? g.Input("token_type_ids", OnnxDataType.Int64, Batch, Sequence) : null;

        string Weight(string name, long[] dims, float std, float mean = 0f) =>
            g.Initializer(name, OnnxDataType.Float, dims, () => WeightGenerator.NormalBytes(s.Seed, name, dims.Aggregate(1L, (a, b) => a * b), mean, std));
        string Linear(string x, string name, int input, int output)
        {
            var w = Weight(name + ".weight", [input, output], 1f / MathF.Sqrt(input));
            var b = Weight(name + ".bias", [output], 0.02f);
            return g.Op("Add", [g.Op("MatMul", [x, w]), b]);
        }

        string LayerNorm(string x, string name) => g.Op("LayerNormalization",
            [x, Weight(name + ".weight", [h], 0.1f, mean: 1f), Weight(name + ".bias", [h], 0.05f)],
            OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", layerNormEpsilon));

        g.Scope = "/embeddings";
        var words = g.Op("Gather", [Weight("embeddings.word_embeddings.weight", [vocabSize, h], 1f), ids]);
        string positions, tokenTypes;
        if (robertaPadId is { } pad)
        {
            // create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad.
            var notPad = g.Op("Cast", [g.Op("Not", [g.Op("Equal", [ids, g.ConstInt64Scalar(pad)])])], OnnxAttribute.Int("to", (long)OnnxDataType.Int64));
            var counted = g.Op("Mul", [g.Op("CumSum", [notPad, g.ConstInt64Scalar(1)]), notPad]);
            var positionIds = g.Op("Add", [counted, g.ConstInt64Scalar(pad)]);
            positions = g.Op("Gather", [Weight("embeddings.position_embeddings.weight", [s.MaxPositions + pad + 1, h], 1f), positionIds]);
            tokenTypes = Weight("embeddings.token_type_embeddings.weight", [1, h], 1f);
        }
        else
        {
            var length = g.Op("Gather", [g.Op("Shape", [ids]), g.ConstInt64Scalar(1)], OnnxAttribute.Int("axis", 0));
            var positionIds = g.Op("Range", [g.ConstInt64Scalar(0), length, g.ConstInt64Scalar(1)]);
            positions = g.Op("Gather", [Weight("embeddings.position_embeddings.weight", [s.MaxPositions, h], 1f), positionIds]);
            tokenTypes = g.Op("Gather", [Weight("embeddings.token_type_embeddings.weight", [2, h], 1f), types!]);
        }

        var x = LayerNorm(g.Op("Add", [g.Op("Add", [words, positions]), tokenTypes]), "embeddings.LayerNorm");

        // Padding gets a large negative score: (1 - mask) * -10000, shaped [batch, 1, 1, sequence].
        var maskFloat = g.Op("Cast", [mask], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        var inverted = g.Op("Sub", [g.ConstFloatScalar(1f), maskFloat]);
        var bias = g.Op("Unsqueeze", [g.Op("Mul", [inverted, g.ConstFloatScalar(-10000f)]), g.ConstInt64Vector(1, 2)]);
        var headShape = g.ConstInt64Vector(0, 0, heads, d);
        var mergedShape = g.ConstInt64Vector(0, 0, h);
        var scale = g.ConstFloatScalar(1f / MathF.Sqrt(d));
        var half = g.ConstFloatScalar(0.5f);
        var one = g.ConstFloatScalar(1f);
        var invSqrt2 = g.ConstFloatScalar(1f / MathF.Sqrt(2f));
        for (var layer = 0; layer < s.Layers; layer++)
        {
            var p = string.Create(CultureInfo.InvariantCulture, $"encoder.layer.{layer}");
            g.Scope = "/" + p;
            string Heads(string name, params long[] perm) => g.Op("Transpose", [g.Op("Reshape", [Linear(x, p + ".attention.self." + name, h, h), headShape])], OnnxAttribute.Ints("perm", perm));
            var q = Heads("query", 0, 2, 1, 3);
            var k = Heads("key", 0, 2, 3, 1);
            var v = Heads("value", 0, 2, 1, 3);
            var scores = g.Op("Add", [g.Op("Mul", [g.Op("MatMul", [q, k]), scale]), bias]);
            var context = g.Op("MatMul", [g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), v]);
            var merged = g.Op("Reshape", [g.Op("Transpose", [context], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), mergedShape]);
            x = LayerNorm(g.Op("Add", [x, Linear(merged, p + ".attention.output.dense", h, h)]), p + ".attention.output.LayerNorm");
            var up = Linear(x, p + ".intermediate.dense", h, s.Intermediate);
            var gelu = g.Op("Mul", [g.Op("Mul", [up, half]), g.Op("Add", [g.Op("Erf", [g.Op("Mul", [up, invSqrt2])]), one])]);
            x = LayerNorm(g.Op("Add", [x, Linear(gelu, p + ".output.dense", s.Intermediate, h)]), p + ".output.LayerNorm");
        }

        g.Output(x, "last_hidden_state", OnnxDataType.Float, Batch, Sequence, h);
        return g.Build(robertaPadId is null ? "bert" : "xlm-roberta");
    }
}

/// <summary>What an encoder architecture sets in its <c>config.json</c> beyond the shapes of its <see cref="BertEncoderSpec"/>.</summary>
/// <param name="Architecture">The one entry of <c>architectures</c>.</param>
/// <param name="ModelType"><c>model_type</c>.</param>
/// <param name="MaxPositionEmbeddings"><c>max_position_embeddings</c> (RoBERTa counts the padding offset in).</param>
/// <param name="TypeVocabularySize"><c>type_vocab_size</c>.</param>
/// <param name="LayerNormEpsilon"><c>layer_norm_eps</c>.</param>
/// <param name="TokenIds">The special token ids, written last in this order.</param>
internal sealed record EncoderConfig(string Architecture, string ModelType, int MaxPositionEmbeddings, int TypeVocabularySize, double LayerNormEpsilon, JsonObject TokenIds);
