namespace Capa.Tokenizers.Tests.Oracle;

/// <summary>Strings on which Capa's tokenizers must agree with the reference.</summary>
internal static class OracleCorpus
{
    public static IReadOnlyList<string> General { get; } =
    [
        "谁获得了2022年英雄联盟S赛世界冠军？",
        "You are a helpful assistant.",
        "You are a helpful assistant designed to output JSON.",
        "2022年英雄联盟世界锦标赛（S赛）的冠军是韩国的DRX战队。他们在决赛中战胜了中国的EDward Gaming（EDG）战队，赢得了冠军头衔。",
        "这个图片里面有什么内容？",
        "Now I want you to score the sentence 'I like apples' on a scale of 1 to 10",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n谁获得了2022年英雄联盟S赛世界冠军？<|im_end|>\n<|im_start|>assistant\n",
        "<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\"}}\n</tool_call>",
        "Hello 👋 world 🌍! Family: 👨‍👩‍👧‍👦, flags: 🇨🇳🇺🇸🇯🇵, skin: 👍🏽, keycap: 1️⃣, heart: ❤️",
        "😀abc 😀😃😄 a😀b 🀄️ 𠀀𠀁 𝐀𝐁𝐂 𝟏𝟐𝟑",
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "for (int i = 0; i < 10; i++) {\r\n\tConsole.WriteLine($\"{i}\");\r\n}\r\n",
        "   leading spaces, trailing spaces   ",
        "tabs\t\tand\t \tmixed \t whitespace\n\n\n\nnewlines\r\n\r\nCRLF  \n  \n",
        " ",
        "\n",
        "a",
        "1234567890 3.14159 -42 1,000,000 0x1F 1e-9",
        "I'm you're he's we've they'll I'd can't WON'T It'S I'M",
        "She said \"hello\"... and left; (maybe) [not] {sure}!?",
        "naïve café résumé Zoë Ångström — “quotes” ‘single’ …",
        "Привет, мир! Γειά σου Κόσμε! こんにちは世界 안녕하세요 مرحبا بالعالم שלום",
        "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX.",
        "https://example.com/path?query=1&other=two#frag user@example.org",
        "<|endoftext|>text after<|endoftext|><|im_end|>",
        "e\u0301 decomposed accents: a\u0308o\u0308u\u0308 and composed: äöü",
        "\u00A0non-breaking\u2003em space\u3000ideographic space",
        "{\"name\": \"Alice\", \"age\": 30, \"tags\": [\"a\", \"b\"], \"nested\": {\"ok\": true, \"n\": null}}",
    ];

    /// <summary>
    /// Seeded random strings over a pool that stresses the split patterns: letters next to marks, digits and
    /// emoji; apostrophes in any case; whitespace runs of every kind; supplementary-plane letters and digits.
    /// </summary>
    public static IReadOnlyList<string> Random(int count, int seed)
    {
        string[] pool =
        [
            "a", "b", "Z", "x", "é", "ß", "İ", "ñ", "е", "ж", "λ", "中", "文", "字", "한", "ア", "ـ", "ع", "0", "7", "٣", "½", "²",
            " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00A0", "\u3000", "\u2028", "\u200D", "\uFE0F", "\u0301",
            "'", "'s", "'S", "'ll", "'LL", "'d", "'Re", "'ve", "'m", "n't", ".", ",", "!", "?", "-", "_", "(", ")", "{", "}", "\"", "/",
            "😀", "👍🏽", "🇯🇵", "👨‍👩‍👧", "𠀀", "𝐀", "𝟏", "🀄", "©", "™", "…", "—", "<|im_start|>", "<|im_end|>", "<think>", "<s>",
            "hello", "world", "The", "don", "123", "4567", "ab", "abc",
        ];
        var rng = new System.Random(seed);
        var result = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            var sb = new System.Text.StringBuilder();
            int length = rng.Next(1, 24);
            for (int j = 0; j < length; j++)
            {
                sb.Append(System.Text.RegularExpressions.Regex.Unescape(pool[rng.Next(pool.Length)]));
            }

            result.Add(sb.ToString());
        }

        return result;
    }

    /// <summary>The seed tutorial, whole and line by line, when ../shared/seed is present.</summary>
    public static IReadOnlyList<string> Seed()
    {
        if (!Directory.Exists(TestPaths.SeedDir))
        {
            return [];
        }

        var result = new List<string>();
        foreach (string file in Directory.GetFiles(TestPaths.SeedDir, "*.txt").Order(StringComparer.Ordinal))
        {
            string text = File.ReadAllText(file);
            result.Add(text);
            result.AddRange(text.Split('\n').Where(l => l.Trim().Length > 0).Distinct().Take(200));
        }

        return result;
    }
}
