using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Tokenizers.Tests.Unigram;

/// <summary>A small XLM-R-shaped Unigram tokenizer.json whose scores make Viterbi and greedy matching disagree.</summary>
internal static class UnigramFixture
{
    public const int Unk = 3;

    public static readonly (string Piece, double Score)[] Pieces =
    [
        ("<s>", 0), ("<pad>", 0), ("</s>", 0), ("<unk>", 0),
        ("▁", -2.0), ("▁h", -4.0), ("▁he", -5.0), ("▁hell", -6.5), ("▁hello", -8.9), ("o", -2.5), ("h", -3.0), ("e", -3.05),
        ("l", -3.1), ("w", -3.5), ("r", -3.55), ("d", -3.6), ("▁wor", -7.0), ("ld", -4.0), ("▁world", -12.0), ("你", -5.0),
        ("好", -5.1), ("你好", -8.0), ("▁你好", -9.5), ("é", -4.0), ("caf", -6.0), ("▁caf", -6.2), ("a", -2.8), ("c", -3.15),
        ("f", -3.3), ("lo", -4.4), ("▁t", -4.1), ("th", -3.9), ("is", -3.01), ("▁is", -3.45), ("i", -3.2), ("s", -3.25),
        ("t", -3.12), ("!", -3.7), ("▁!", -4.3), ("2", -4.2), ("0", -4.25), ("▁2", -4.6), ("~", -6.0), ("<mask>", 0),
    ];

    public static int Id(string piece) => Array.FindLastIndex(Pieces, p => p.Piece == piece);

    public static string Json(bool byteFallback = false, JsonNode? normalizer = null)
    {
        var vocab = new JsonArray();
        foreach (var (piece, score) in Pieces)
        {
            vocab.Add(new JsonArray(piece, score));
        }

        var added = new JsonArray();
        foreach (var (content, id) in new[] { ("<s>", 0), ("<pad>", 1), ("</s>", 2), ("<unk>", 3), ("<mask>", Pieces.Length - 1) })
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = content == "<mask>", ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }

        JsonObject Special(string name) => new() { ["SpecialToken"] = new JsonObject { ["id"] = name, ["type_id"] = 0 } };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = normalizer ?? new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Precompiled", ["precompiled_charsmap"] = "" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = " {2,}" }, ["content"] = " " }),
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "always", ["split"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("<s>"), new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }, Special("</s>")),
                ["special_tokens"] = new JsonObject
                {
                    ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(0), ["tokens"] = new JsonArray("<s>") },
                    ["</s>"] = new JsonObject { ["id"] = "</s>", ["ids"] = new JsonArray(2), ["tokens"] = new JsonArray("</s>") },
                },
            },
            ["decoder"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "always", ["split"] = true },
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = Unk, ["vocab"] = vocab, ["byte_fallback"] = byteFallback },
        };
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static string Config() => """
        {"model_max_length":512,"tokenizer_class":"XLMRobertaTokenizer","bos_token":"<s>","eos_token":"</s>","cls_token":"<s>","sep_token":"</s>","pad_token":"<pad>","unk_token":"<unk>","mask_token":"<mask>","clean_up_tokenization_spaces":true}
        """;
}
