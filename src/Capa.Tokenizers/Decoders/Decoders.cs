using System.Globalization;
using System.Text;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Decoders;

/// <summary>ByteLevel: byte-alphabet spellings back to UTF-8 text; added tokens pass through as written.</summary>
internal sealed class ByteLevelDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken)
    {
        var output = new List<string>();
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (isAddedToken(token))
            {
                Flush();
                output.Add(token);
            }
            else
            {
                ByteLevelAlphabet.AppendBytes(token, bytes);
            }
        }

        Flush();
        return output;

        void Flush()
        {
            if (bytes.Count > 0)
            {
                output.Add(Encoding.UTF8.GetString([.. bytes]));
                bytes.Clear();
            }
        }
    }

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        if (piece.Text is { } text)
        {
            if (piece.IsAdded)
            {
                piece = new TokenPiece { Bytes = Encoding.UTF8.GetBytes(text), IsAdded = true };
                return;
            }

            var bytes = new List<byte>(text.Length);
            ByteLevelAlphabet.AppendBytes(text, bytes);
            piece = new TokenPiece { Bytes = [.. bytes] };
        }
    }

    public override void DescribeStream(ref StreamShape shape, ref bool fused) => shape.ByteLevel = true;
}

/// <summary>Replace: a pattern in each token becomes the content ('▁' to ' ' for SentencePiece vocabularies).</summary>
internal sealed class ReplaceDecoder(TokenizerRegex pattern, string content) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken) =>
        tokens.ConvertAll(t => pattern.Replace(t, content));

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        if (piece.Text is { } text)
        {
            piece.Text = pattern.Replace(text, content);
        }
    }
}

/// <summary>ByteFallback: runs of "&lt;0xAB&gt;" tokens become the text their bytes spell (one U+FFFD per byte if invalid).</summary>
internal sealed class ByteFallbackDecoder : Decoder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken)
    {
        var output = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (TryParseByteToken(token, out byte value))
            {
                bytes.Add(value);
                continue;
            }

            Flush();
            output.Add(token);
        }

        Flush();
        return output;

        void Flush()
        {
            if (bytes.Count == 0)
            {
                return;
            }

            try
            {
                output.Add(StrictUtf8.GetString([.. bytes]));
            }
            catch (DecoderFallbackException)
            {
                for (int i = 0; i < bytes.Count; i++)
                {
                    output.Add("\uFFFD");
                }
            }

            bytes.Clear();
        }
    }

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        if (piece.Text is { } text && TryParseByteToken(text, out byte value))
        {
            piece = new TokenPiece { Bytes = [value] };
        }
    }

    public override void DescribeStream(ref StreamShape shape, ref bool fused) => shape.ByteFallback = true;
}

/// <summary>Fuse: all tokens become one string.</summary>
internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken) => [string.Concat(tokens)];

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused) => fused = true;

    public override void DescribeStream(ref StreamShape shape, ref bool fused) => fused = true;
}

/// <summary>Strip: removes up to <c>start</c> leading and <c>stop</c> trailing <c>content</c> characters of each token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken) => tokens.ConvertAll(Strip);

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        // After Fuse the "token" is the whole text, whose ends a middle token never touches.
        if (!fused && piece.Text is { } text)
        {
            piece.Text = Strip(text);
        }
    }

    private string Strip(string token)
    {
        int begin = 0;
        while (begin < start && begin < token.Length && token[begin] == content)
        {
            begin++;
        }

        int end = token.Length;
        while (token.Length - end < stop && end > begin && token[end - 1] == content)
        {
            end--;
        }

        return token[begin..end];
    }

    public override void DescribeStream(ref StreamShape shape, ref bool fused)
    {
        // Unfused, Strip acts on each token, which the per-token pieces already show; fused, on the ends of the whole text.
        if (fused)
        {
            shape.StripContent = content;
            shape.StripStart = start;
            shape.StripStop = stop;
        }
    }
}

/// <summary>Metaspace: '▁' becomes ' '; in the first token the marks are dropped, as the tokenizers library does, unless the scheme is "never".</summary>
internal sealed class MetaspaceDecoder(char replacement, PreTokenizers.PrependScheme scheme) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken)
    {
        var output = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            output.Add(i == 0 && scheme != PreTokenizers.PrependScheme.Never
                ? tokens[i].Replace(replacement.ToString(), string.Empty, StringComparison.Ordinal)
                : tokens[i].Replace(replacement, ' '));
        }

        return output;
    }

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        if (piece.Text is { } text)
        {
            piece.Text = text.Replace(replacement, ' ');
        }
    }

    public override void FirstBytes(ref TokenPiece piece, ref bool fused)
    {
        if (scheme == PreTokenizers.PrependScheme.Never)
        {
            MiddleBytes(ref piece, ref fused);
        }
        else if (piece.Text is { } text)
        {
            piece.Text = text.Replace(replacement.ToString(), string.Empty, StringComparison.Ordinal);
        }
    }

    public override void DescribeStream(ref StreamShape shape, ref bool fused) =>
        shape.FirstTokenRule |= scheme != PreTokenizers.PrependScheme.Never;
}

/// <summary>Sequence: steps in order.</summary>
internal sealed class SequenceDecoder(List<Decoder> steps) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken)
    {
        foreach (var step in steps)
        {
            tokens = step.DecodeChain(tokens, isAddedToken);
        }

        return tokens;
    }

    public override void MiddleBytes(ref TokenPiece piece, ref bool fused)
    {
        foreach (var step in steps)
        {
            step.MiddleBytes(ref piece, ref fused);
        }
    }

    public override void FirstBytes(ref TokenPiece piece, ref bool fused)
    {
        foreach (var step in steps)
        {
            step.FirstBytes(ref piece, ref fused);
        }
    }

    public override void DescribeStream(ref StreamShape shape, ref bool fused)
    {
        foreach (var step in steps)
        {
            step.DescribeStream(ref shape, ref fused);
        }
    }
}
