namespace Capa.Tokenizers.Text;

/// <summary>
/// GPT-2's reversible map between bytes and printable characters: byte-level BPE vocabularies spell every
/// byte as one of these 256 characters (space is 'Ġ', newline is 'Ċ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char Encode(byte value) => ByteToChar[value];

    /// <summary>The byte that <paramref name="c"/> stands for, when it is one of the 256 characters.</summary>
    public static bool TryDecode(char c, out byte value) => CharToByte.TryGetValue(c, out value);

    /// <summary>Spells the UTF-8 bytes of <paramref name="text"/> in the alphabet.</summary>
    public static string EncodeText(string text)
    {
        int byteCount = System.Text.Encoding.UTF8.GetByteCount(text);
        if (byteCount == text.Length)
        {
            // ASCII only: one character per byte, no intermediate buffer.
            return string.Create(text.Length, text, static (span, source) =>
            {
                for (int i = 0; i < source.Length; i++)
                {
                    span[i] = ByteToChar[source[i]];
                }
            });
        }

        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return string.Create(bytes.Length, bytes, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = ByteToChar[source[i]];
            }
        });
    }

    /// <summary>
    /// Appends the bytes <paramref name="token"/> spells; when one of its characters is outside the alphabet
    /// the token is not byte-level text and its own UTF-8 bytes are appended instead (as the reference does).
    /// </summary>
    public static void AppendBytes(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (!CharToByte.ContainsKey(c))
            {
                output.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }
        }

        foreach (char c in token)
        {
            output.Add(CharToByte[c]);
        }
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++)
        {
            map[b] = (char)b;
            assigned[b] = true;
        }

        for (int b = 0xA1; b <= 0xAC; b++)
        {
            map[b] = (char)b;
            assigned[b] = true;
        }

        for (int b = 0xAE; b <= 0xFF; b++)
        {
            map[b] = (char)b;
            assigned[b] = true;
        }

        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b])
            {
                map[b] = (char)(256 + n);
                n++;
            }
        }

        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[ByteToChar[b]] = (byte)b;
        }

        return map;
    }
}
