using System.Text;

namespace Capa.Tokenizers.Tests.Oracle;

/// <summary>Capa's tokenizers against @huggingface/transformers' AutoTokenizer on the same files.</summary>
public sealed class OracleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [OracleFact(needsQwen3: true)]
    public void Qwen3_MatchesReference_InBothDirections()
    {
        string folder = WriteFolder("qwen3", SlowTokenizerConverter.ConvertFolder(TestPaths.Qwen3Dir), File.ReadAllText(Path.Combine(TestPaths.Qwen3Dir, "tokenizer_config.json")));
        try
        {
            var tokenizer = HfTokenizer.FromFolder(TestPaths.Qwen3Dir);
            var corpus = OracleCorpus.General.Concat(OracleCorpus.Seed()).Concat(OracleCorpus.Random(400, seed: 20261124)).ToList();
            CompareWithOracle(tokenizer, folder, corpus);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [OracleFact]
    public void SentencePieceLegacy_MatchesReference_InBothDirections() =>
        CompareFixture("sp-legacy", Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig(), SentencePieceCorpus);

    [OracleFact]
    public void SentencePieceMetaspace_MatchesReference_InBothDirections() =>
        CompareFixture("sp-metaspace", Fixtures.SentencePieceMetaspace(), Fixtures.SentencePieceConfig(), SentencePieceCorpus);

    [OracleFact]
    public void ByteLevelLlama3Style_MatchesReference_InBothDirections() =>
        CompareFixture("bl-llama3", Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config(), [.. OracleCorpus.General, .. OracleCorpus.Random(200, seed: 3), "abc abcd ab hello hello12345 123456"]);

    private static readonly string[] SentencePieceCorpus =
    [
        .. OracleCorpus.Random(150, seed: 7),
        "hello world", "hello world!", " hello", "  hello  world  ", "你好", "hello 你好 world", "世界 😀 emoji", "this is it",
        "<s>hello</s>", "hello<s> world", "\n\ttabs\n", "unknown: ~ ^ ` é", "a", "th th th", "  ",
    ];

    private void CompareFixture(string name, string tokenizerJson, string configJson, IReadOnlyList<string> corpus)
    {
        string folder = WriteFolder(name, tokenizerJson, configJson);
        try
        {
            CompareWithOracle(HfTokenizer.FromJson(tokenizerJson, configJson), folder, corpus);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private void CompareWithOracle(HfTokenizer tokenizer, string folder, IReadOnlyList<string> corpus)
    {
        var encodeRequests = corpus.SelectMany(t => new[] { (t, false), (t, true) }).ToList();
        int[][] ours = [.. encodeRequests.Select(r => tokenizer.Encode(r.Item1, r.Item2))];
        var decodeRequests = ours.Where(ids => ids.Length > 0).SelectMany(ids => new[] { (ids, false), (ids, true) }).ToList();

        var (theirs, theirText) = TokenizerOracle.Run(folder, encodeRequests, decodeRequests);

        var failures = new StringBuilder();
        for (int i = 0; i < encodeRequests.Count; i++)
        {
            if (!ours[i].SequenceEqual(theirs[i]))
            {
                failures.AppendLine($"encode(add_special={encodeRequests[i].Item2}) of {Show(encodeRequests[i].Item1)}:\n  capa   [{string.Join(",", ours[i])}]\n  oracle [{string.Join(",", theirs[i])}]");
            }
        }

        for (int i = 0; i < decodeRequests.Count; i++)
        {
            string mine = tokenizer.Decode(decodeRequests[i].Item1, decodeRequests[i].Item2);
            if (mine != theirText[i])
            {
                failures.AppendLine($"decode(skip_special={decodeRequests[i].Item2}) of [{string.Join(",", decodeRequests[i].Item1)}]:\n  capa   {Show(mine)}\n  oracle {Show(theirText[i])}");
            }
        }

        int tokens = ours.Sum(ids => ids.Length);
        output.WriteLine($"{encodeRequests.Count} encodings ({tokens} tokens) and {decodeRequests.Count} decodings compared with the oracle.");
        Assert.True(failures.Length == 0, $"{encodeRequests.Count} encodings, {decodeRequests.Count} decodings compared; mismatches:\n{failures}");
    }

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s.Length > 300 ? s[..300] + "…" : s);

    private static string WriteFolder(string name, string tokenizerJson, string configJson)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"capa-tok-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizerJson);
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), configJson);
        return folder;
    }
}
