using System.Text.Json;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Bench;

/// <summary>Qwen3's vocab.json as token bytes (GPT-2 byte-level alphabet decoded), 151,936 ids.</summary>
internal static class QwenVocabulary
{
    public static TokenVocabulary Load(string vocabPath)
    {
        var bs = new List<int>();
        for (int b = '!'; b <= '~'; b++)
        {
            bs.Add(b);
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            bs.Add(b);
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            bs.Add(b);
        }

        var cs = new List<int>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!bs.Contains(b))
            {
                bs.Add(b);
                cs.Add(256 + n++);
            }
        }

        var decoder = new Dictionary<char, byte>();
        for (int i = 0; i < bs.Count; i++)
        {
            decoder[(char)cs[i]] = (byte)bs[i];
        }

        var tokens = new byte[151_936][];
        Array.Fill(tokens, []);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath));
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            tokens[p.Value.GetInt32()] = [.. p.Name.Select(c => decoder[c])];
        }

        return TokenVocabulary.Create([.. tokens.Select(t => (ReadOnlyMemory<byte>)t)], [151643, 151645]);
    }
}
