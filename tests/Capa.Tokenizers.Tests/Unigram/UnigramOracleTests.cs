using System.Text;
using Capa.Tokenizers.Tests.Oracle;

namespace Capa.Tokenizers.Tests.Unigram;

/// <summary>The Unigram pipeline against @huggingface/transformers' AutoTokenizer on the same tokenizer.json.</summary>
public sealed class UnigramOracleTests
{
    private static readonly string[] Corpus =
    [
        "hello world", "hello world!", " hello", "  hello  world  ", "你好", "hello 你好 world", "世界 😀 emoji 👍🏽", "this is it",
        "<s>hello</s>", "hello<s> world", "\n\ttabs\n", "unknown: ~ ^ ` é", "café", "cafe\u0301", "ｈｅｌｌｏ", "a\u00A0b\u3000c", "th th th",
        "  ", "", "2020 20 02!", "h😀😀e", "\uFF5E~", "hello <mask> world", "▁hello", "\u0007control\u200Bzero",
        .. OracleCorpus.General,
    ];

    [OracleFact]
    public void Unigram_matches_the_reference_in_both_directions()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"capa-tok-unigram-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer.json"), UnigramFixture.Json());
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), UnigramFixture.Config());
            var tokenizer = HfTokenizer.FromFolder(folder);
            var encode = Corpus.SelectMany(t => new[] { (t, false), (t, true) }).ToList();
            int[][] ours = [.. encode.Select(r => tokenizer.Encode(r.Item1, r.Item2))];
            var decode = ours.Where(ids => ids.Length > 0).Select(ids => (ids, true)).ToList();
            var (theirs, theirText) = TokenizerOracle.Run(folder, encode, decode);
            var failures = new StringBuilder();
            for (int i = 0; i < encode.Count; i++)
            {
                if (!ours[i].SequenceEqual(theirs[i]))
                {
                    failures.AppendLine($"encode({encode[i].Item2}) {System.Text.Json.JsonSerializer.Serialize(encode[i].Item1)}: capa [{string.Join(",", ours[i])}] oracle [{string.Join(",", theirs[i])}]");
                }
            }

            for (int i = 0; i < decode.Count; i++)
            {
                string mine = tokenizer.Decode(decode[i].ids, skipSpecialTokens: true);
                if (mine != theirText[i])
                {
                    failures.AppendLine($"decode [{string.Join(",", decode[i].ids)}]: capa {System.Text.Json.JsonSerializer.Serialize(mine)} oracle {System.Text.Json.JsonSerializer.Serialize(theirText[i])}");
                }
            }

            Assert.True(failures.Length == 0, failures.ToString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
