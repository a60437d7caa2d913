using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.TestModels.Images;
using Capa.Tokenizers.Clip;

namespace Capa.TestModels.Tests.Images;

/// <summary>
/// Capa's CLIP tokenizer (built from a Stable Diffusion folder's vocab.json and merges.txt) against
/// @huggingface/transformers' CLIPTokenizer on the same files, on more than 300 strings.
/// </summary>
public sealed class ClipTokenizerOracleTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-clip-oracle-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private string WriteFolder()
    {
        string folder = Path.Combine(_root, "tokenizer");
        ClipTestTokenizer.Instance.Write(folder, padToken: "!");
        return folder;
    }

    [Fact]
    public void Lower_cases_cleans_whitespace_and_marks_word_ends()
    {
        ClipTokenizer tokenizer = ClipTokenizer.FromFolder(WriteFolder());
        Assert.Equal(tokenizer.EncodeText("a photo of a cat"), tokenizer.EncodeText("  A   PHOTO\tof a\nCat "));
        int[] ids = tokenizer.EncodeText("cat");
        string last = tokenizer.Inner.IdToToken(ids[^1])!;
        Assert.EndsWith("</w>", last, StringComparison.Ordinal);
        Assert.NotEqual(tokenizer.EncodeText("cats"), tokenizer.EncodeText("cat s"));

        int[] padded = tokenizer.EncodePadded("a cat", out int count);
        Assert.Equal(77, padded.Length);
        Assert.Equal(tokenizer.BosId, padded[0]);
        Assert.Equal(tokenizer.EosId, padded[count + 1]);
        Assert.All(padded[(count + 2)..], id => Assert.Equal(tokenizer.Inner.TokenToId("!"), id));

        int[] truncated = tokenizer.EncodePadded(string.Join(' ', Enumerable.Repeat("the quick brown fox", 100)), out int kept);
        Assert.Equal(75, kept);
        Assert.Equal(tokenizer.EosId, truncated[^1]);
    }

    [Fact]
    public void Sd1_folders_pad_with_the_end_token_and_a_tokenizer_json_is_used_when_present()
    {
        string folder = Path.Combine(_root, "sd1");
        ClipTestTokenizer.Instance.Write(folder, padToken: "<|endoftext|>");
        ClipTokenizer fromSlow = ClipTokenizer.FromFolder(folder);
        Assert.Equal(fromSlow.EosId, fromSlow.PadId);
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), ClipTokenizer.ToTokenizerJson(
            File.ReadAllText(Path.Combine(folder, "vocab.json")), File.ReadLines(Path.Combine(folder, "merges.txt"))));
        Assert.Equal(fromSlow.EncodeText("A Cat, 2 dogs!"), ClipTokenizer.FromFolder(folder).EncodeText("A Cat, 2 dogs!"));
    }

    [OracleFact]
    public void Matches_transformers_js_CLIPTokenizer_on_300_strings()
    {
        string slow = WriteFolder();
        string folder = Path.Combine(_root, "clip");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), ClipTokenizer.ToTokenizerJson(
            File.ReadAllText(Path.Combine(slow, "vocab.json")), File.ReadLines(Path.Combine(slow, "merges.txt"))));
        File.Copy(Path.Combine(slow, "tokenizer_config.json"), Path.Combine(folder, "tokenizer_config.json"));
        File.Copy(Path.Combine(slow, "special_tokens_map.json"), Path.Combine(folder, "special_tokens_map.json"));

        List<string> texts = Corpus();
        Assert.True(texts.Count >= 300, $"{texts.Count} strings");
        int[][] expected = RunOracle(folder, texts);
        ClipTokenizer capa = ClipTokenizer.FromFolder(slow);
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.True(expected[i].SequenceEqual(capa.Inner.Encode(texts[i], addSpecialTokens: true)), $"\"{texts[i]}\": transformers.js [{string.Join(',', expected[i])}], Capa [{string.Join(',', capa.Inner.Encode(texts[i], addSpecialTokens: true))}]");
        }
    }

    private static List<string> Corpus()
    {
        string[] prompts =
        [
            "a photo of a cat", "A Photo Of A CAT", "一只猫", "一只猫坐在窗台上", "a cat, sitting on a window-sill; oil painting!!",
            "don't stop", "it's the cat's hat", "they're here, we've been, I'm fine, you'll see, he'd go", "DON'T SHOUT",
            "4k, 8k, ultra-detailed, 1990s", "3.14159 and 2,718", "price: $100 (approx.)", "e-mail: test@example.com",
            "café résumé naïve", "Straße über Ärger", "ÉCOLE", "emoji 🐱🐶 party 🎉", "tab\tseparated\twords", "line\nbreaks\r\nhere",
            "   leading and trailing   ", "multiple     spaces", "", " ", "!!!", "...", "'", "''s", "'s", "a'b'c", "x''y",
            "hyphen-ated words", "snake_case_name", "CamelCaseWord", "numbers 1234567890", "mixed123abc456", "Ω≈ç√∫",
            "ﬁ ligature", "fullwidth ＡＢＣ １２３", "Привет мир", "مرحبا بالعالم", "שלום עולם", "こんにちは世界", "안녕하세요",
            "<|startoftext|>hello<|endoftext|>", "hello <|endoftext|> world", "masterpiece, best quality, (highly detailed:1.2)",
            "[bracketed] {braced} <angled>", "a/b\\c|d", "100% of #hashtags & @mentions", "trailing punctuation?!",
        ];
        var texts = new List<string>(prompts);
        string[] lines = File.ReadAllLines(CorpusPath());
        foreach (string line in lines.Where(l => l.Length > 0).Take(220))
        {
            texts.Add(line);
        }

        foreach (string line in lines.Where(l => l.Length > 0).Skip(220).Take(60))
        {
            texts.Add(line.ToUpperInvariant().Replace(" ", "  ", StringComparison.Ordinal));
        }

        return texts;
    }

    private static string CorpusPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Capa.slnx")))
            {
                return Path.Combine(dir.FullName, "src", "Capa.TestModels", "Corpus.txt");
            }
        }

        throw new FileNotFoundException("Corpus.txt");
    }

    private static int[][] RunOracle(string folder, List<string> texts)
    {
        string request = Path.Combine(Path.GetDirectoryName(folder)!, "request.json");
        string response = Path.Combine(Path.GetDirectoryName(folder)!, "response.json");
        var body = new JsonObject
        {
            ["folder"] = folder,
            ["encode"] = new JsonArray([.. texts.Select(t => (JsonNode)new JsonObject { ["text"] = t, ["add_special_tokens"] = true })]),
        };
        File.WriteAllText(request, body.ToJsonString());
        Oracle.RunScriptText("tokenize.mjs", Oracle.DefaultTimeout, [request, response]);
        using JsonDocument result = JsonDocument.Parse(File.ReadAllText(response));
        return [.. result.RootElement.GetProperty("encode").EnumerateArray().Select(a => a.EnumerateArray().Select(x => x.GetInt32()).ToArray())];
    }
}
