using System.Text;
using System.Text.Json;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests;

/// <summary>Vocabularies for tests: random ones built to stress the automaton, and the real Qwen3 one.</summary>
internal static class TestVocabularies
{
    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "{\"", "\"}", "\"]", "\":", "\": ", "\",", "\", \"", "},", "}]", "]}", "}}", "\":\"", "[{", "{}", "[]",
        " ", "  ", "    ", "\n", "\n  ", "\n    ", "\t", "\r\n", " \"", ", ", ": ",
        "true", "false", "null", "tr", "ue", "fal", "nu", "ll",
        "0", "1", "12", "-", "-1", "0.", ".5", "3.14", "e", "E+", "e-", "1e5", "00", "99", "2024", "-0", "10",
        "name", "id", "tags", "value", "type", "items", "next", "age", "email", "ok", "a", "b", "ab", "xyz", "Hello", " world",
        "\\", "\\\"", "\\n", "\\u", "\\u00", "4e2d", "D83D", "\\ud83d", "00e9", "\\t", "/",
        "中", "文", "中文", "你好", "é", "😀", "\u2028",
        "T", "Z", ":00", "-01", "-12", "T12", "+02:00", "@", ".com", "user", "f47ac10b", "-58cc-", "4372-a567-0e02b2c3d479",
        "\"name\"", "\"id\": ", "\"tags\": [", "\"next\": null", "\"value\":", "\"type\": \"", "\"items\"", "\"arguments\": ",
        "<tool_call>", "</tool_call>", "<tool_call>\n", "\n</tool_call>", "get_weather", "\"get_weather\"", "search",
    ];

    /// <summary>
    /// All 256 single bytes, the fragments above, partial UTF-8 (lead bytes alone, a character's tail), and random
    /// multi-byte tokens drawn from JSON punctuation, letters, digits, quotes, whitespace runs and Chinese.
    /// Special tokens (empty) sit at the end, then end-of-sequence.
    /// </summary>
    public static TokenVocabulary Random(int seed, int randomTokens = 600)
    {
        var rng = new Random(seed);
        var tokens = new List<byte[]>();
        for (int b = 0; b < 256; b++)
        {
            tokens.Add([(byte)b]);
        }

        foreach (string f in Fragments)
        {
            tokens.Add(Encoding.UTF8.GetBytes(f));
        }

        byte[] zh = Encoding.UTF8.GetBytes("中");
        tokens.Add(zh[..1]);
        tokens.Add(zh[..2]);
        tokens.Add(zh[1..]);
        tokens.Add([0xF0, 0x9F]);
        tokens.Add([0x98, 0x80]);
        tokens.Add([0xC3]);
        tokens.Add([0xED, 0xA0, 0x80]); // a UTF-8-encoded surrogate: never valid
        tokens.Add([0xC0, 0x80]); // overlong: never valid
        string[] pieces = ["{", "}", "[", "]", ",", ":", "\"", " ", "\n", "  ", "a", "b", "z", "Q", "0", "1", "7", "9", ".", "-", "e", "中", "文", "\\", "n", "u", "true", "null"];
        for (int i = 0; i < randomTokens; i++)
        {
            int len = rng.Next(2, 6);
            var sb = new StringBuilder();
            for (int k = 0; k < len; k++)
            {
                sb.Append(pieces[rng.Next(pieces.Length)]);
            }

            tokens.Add(Encoding.UTF8.GetBytes(sb.ToString()));
        }

        tokens.Add([]); // a special token
        tokens.Add([]); // end of sequence
        return TokenVocabulary.Create([.. tokens.Select(t => (ReadOnlyMemory<byte>)t)], [tokens.Count - 1]);
    }

    /// <summary>The repository root (the folder holding Capa.slnx).</summary>
    public static string RepositoryRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Capa.slnx")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("Capa.slnx not found above the test binaries.");
        }
    }

    /// <summary>The shared reference folder, resolved from the repository root.</summary>
    public static string ReferenceFolder => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "reference"));

    private static TokenVocabulary? _qwen;

    /// <summary>Qwen3's vocabulary (151,936 ids; ids of added tokens are special), or null when the folder is absent.</summary>
    public static TokenVocabulary? Qwen3()
    {
        if (_qwen is not null)
        {
            return _qwen;
        }

        string folder = Path.Combine(ReferenceFolder, "qwen3-tokenizer");
        string vocabPath = Path.Combine(folder, "vocab.json");
        if (!File.Exists(vocabPath))
        {
            return null;
        }

        Dictionary<char, byte> decoder = ByteDecoder();
        var tokens = new byte[151_936][];
        Array.Fill(tokens, []);
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(vocabPath)))
        {
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                int id = p.Value.GetInt32();
                tokens[id] = [.. p.Name.Select(c => decoder[c])];
            }
        }

        // <|endoftext|> 151643 and <|im_end|> 151645 end a turn.
        _qwen = TokenVocabulary.Create([.. tokens.Select(t => (ReadOnlyMemory<byte>)t)], [151643, 151645]);
        return _qwen;
    }

    /// <summary>GPT-2's byte-to-unicode map, inverted.</summary>
    private static Dictionary<char, byte> ByteDecoder()
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
                cs.Add(256 + n);
                n++;
            }
        }

        var map = new Dictionary<char, byte>();
        for (int i = 0; i < bs.Count; i++)
        {
            map[(char)cs[i]] = (byte)bs[i];
        }

        return map;
    }
}
