using System.Text.Json.Nodes;

namespace Capa.Tokenizers.Tests;

/// <summary>Small hand-built tokenizer.json files for the two BPE families.</summary>
internal static class Fixtures
{
    /// <summary>
    /// A SentencePiece-style BPE (Llama 2 "legacy" layout): Prepend + Replace normalizers, byte fallback, fuse_unk,
    /// decoder Replace / ByteFallback / Fuse / Strip, and a BOS template.
    /// </summary>
    public static string SentencePieceLegacy() => SentencePiece(metaspace: false);

    /// <summary>The same vocabulary with a Metaspace pre-tokenizer (prepend_scheme "first") instead of normalizers.</summary>
    public static string SentencePieceMetaspace() => SentencePiece(metaspace: true);

    private static readonly string[] SpPieces =
    [
        "▁", "h", "e", "l", "o", "w", "r", "d", "你", "好", "!", "t", "s", "a", "i",
        "▁h", "▁he", "ll", "llo", "▁hello", "▁w", "or", "▁wor", "ld", "▁world", "你好", "▁你好", "▁▁", "is", "▁is", "▁t", "▁th", "th",
    ];

    private static readonly (string, string)[] SpMerges =
    [
        ("▁", "h"), ("▁h", "e"), ("l", "l"), ("ll", "o"), ("▁he", "llo"), ("▁", "w"), ("o", "r"), ("▁w", "or"), ("l", "d"),
        ("▁wor", "ld"), ("你", "好"), ("▁", "你好"), ("▁", "▁"), ("i", "s"), ("▁", "is"), ("▁", "t"), ("t", "h"), ("▁t", "h"),
    ];

    private static string SentencePiece(bool metaspace)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = 3 + b;
        }

        int id = 259;
        foreach (string piece in SpPieces)
        {
            vocab[piece] = id++;
        }

        var merges = new JsonArray();
        foreach (var (a, b) in SpMerges)
        {
            merges.Add($"{a} {b}");
        }

        var added = new JsonArray();
        foreach (var (content, tokenId) in new[] { ("<unk>", 0), ("<s>", 1), ("</s>", 2) })
        {
            added.Add(new JsonObject
            {
                ["id"] = tokenId, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }

        JsonNode? normalizer = metaspace
            ? null
            : new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            };
        JsonNode? preTokenizer = metaspace
            ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false }
            : null;

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = preTokenizer,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 1 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject
                {
                    ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(1), ["tokens"] = new JsonArray("<s>") },
                },
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = "<unk>",
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return root.ToJsonString();
    }

    /// <summary>tokenizer_config.json for the SentencePiece fixtures.</summary>
    public static string SentencePieceConfig() => """
        {"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false},
         "eos_token": "</s>", "unk_token": "<unk>", "pad_token": null, "clean_up_tokenization_spaces": false,
         "add_bos_token": true, "tokenizer_class": "LlamaTokenizer"}
        """;

    /// <summary>
    /// A Llama-3-style byte-level BPE: Llama 3's split pattern, ignore_merges, merges as [a, b] pairs, a
    /// &lt;|begin_of_text|&gt; template, and the 256 byte characters plus a few merged tokens.
    /// </summary>
    public static string ByteLevelLlama3(bool ignoreMerges = true)
    {
        var vocab = new JsonObject();
        int id = 0;
        for (int b = 0; b < 256; b++)
        {
            string c = Capa.Tokenizers.Text.ByteLevelAlphabet.Encode((byte)b).ToString();
            vocab[c] = id++;
        }

        string[] extra = ["ab", "abc", "Ġa", "Ġab", "he", "hel", "hell", "hello", "Ġhello", "ĠĠ", "12", "123"];
        foreach (string token in extra)
        {
            vocab[token] = id++;
        }

        // "abc" is in the vocabulary but no merge builds it from "ab" + "c": only ignore_merges yields it whole.
        var merges = new JsonArray();
        foreach (var (a, b) in new[] { ("a", "b"), ("Ġ", "a"), ("Ġa", "b"), ("h", "e"), ("he", "l"), ("hel", "l"), ("hell", "o"), ("Ġ", "hello"), ("Ġ", "Ġ"), ("1", "2"), ("12", "3") })
        {
            merges.Add(new JsonArray(a, b));
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 300, ["content"] = "<|begin_of_text|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true },
                new JsonObject { ["id"] = 301, ["content"] = "<|eot_id|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+" },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["processors"] = new JsonArray(
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                    new JsonObject
                    {
                        ["type"] = "TemplateProcessing",
                        ["single"] = new JsonArray(
                            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                        ["pair"] = new JsonArray(
                            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 0 } },
                            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                            new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["type_id"] = 1 } },
                            new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                        ["special_tokens"] = new JsonObject
                        {
                            ["<|begin_of_text|>"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["ids"] = new JsonArray(300), ["tokens"] = new JsonArray("<|begin_of_text|>") },
                        },
                    }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return root.ToJsonString();
    }

    public static string Llama3Config() => """
        {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "clean_up_tokenization_spaces": true, "tokenizer_class": "PreTrainedTokenizerFast"}
        """;
}
