using System.Text.Json;
using Capa.Tokenizers.PreTokenizers;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Decoders;

/// <summary>
/// A tokenizer.json decoder step. Steps pass a list of token strings along (the tokenizers library's
/// decode_chain); <see cref="MiddleBytes"/> is the same step applied to one token that sits inside a sequence,
/// at the byte level, which is what constrained decoding needs.
/// </summary>
internal abstract class Decoder
{
    /// <summary>Transforms the token strings.</summary>
    public abstract List<string> DecodeChain(List<string> tokens, Func<string, bool> isAddedToken);

    /// <summary>Transforms one token's piece for a token in the middle of a sequence.</summary>
    public abstract void MiddleBytes(ref TokenPiece piece, ref bool fused);

    /// <summary>Transforms the piece of the first token of a sequence; only steps with a first-token rule differ from <see cref="MiddleBytes"/>.</summary>
    public virtual void FirstBytes(ref TokenPiece piece, ref bool fused) => MiddleBytes(ref piece, ref fused);

    /// <summary>
    /// Records in <paramref name="shape"/> what this step does that per-token pieces do not show (a first-token rule,
    /// byte runs, stripping the ends of the whole text), so a stream can decode token by token.
    /// </summary>
    public virtual void DescribeStream(ref StreamShape shape, ref bool fused)
    {
    }

    /// <summary>Builds the decoder a tokenizer.json "decoder" object declares (null when absent).</summary>
    public static Decoder? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }

        string type = JsonConfig.TypeOf(config, "decoder");
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(),
            "Replace" => new ReplaceDecoder(config.GetPattern("pattern"), config.GetString("content") ?? string.Empty),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(ReadStripContent(config), config.GetInt("start", 0), config.GetInt("stop", 0)),
            "Metaspace" => new MetaspaceDecoder(MetaspacePreTokenizer.ReadReplacement(config), MetaspacePreTokenizer.ReadScheme(config)),
            "Sequence" => new SequenceDecoder(ReadList(config)),
            _ => throw new NotSupportedException($"tokenizer.json decoder type \"{type}\" is not supported."),
        };
    }

    private static char ReadStripContent(JsonElement config)
    {
        string content = config.GetString("content") ?? " ";
        return content.Length == 1 ? content[0] : throw new FormatException("Strip decoder \"content\" must be a single character.");
    }

    private static List<Decoder> ReadList(JsonElement config)
    {
        var list = new List<Decoder>();
        var items = config.Get("decoders");
        if (items.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in items.EnumerateArray())
            {
                if (Create(item) is { } decoder)
                {
                    list.Add(decoder);
                }
            }
        }

        return list;
    }
}

/// <summary>
/// What a decoder does to a sequence beyond the per-token pieces of <see cref="Decoder.MiddleBytes"/>: what a stream must
/// know to decode token by token and still equal the decode of the whole sequence.
/// </summary>
internal struct StreamShape
{
    /// <summary>Byte-level tokens: their bytes form one UTF-8 stream (invalid sequences become U+FFFD), broken only by added tokens.</summary>
    public bool ByteLevel;

    /// <summary>"&lt;0xAB&gt;" tokens: a run of them is decoded strictly (an invalid run is one U+FFFD per byte).</summary>
    public bool ByteFallback;

    /// <summary>The first token's piece differs from its piece in the middle (<see cref="Decoder.FirstBytes"/>).</summary>
    public bool FirstTokenRule;

    /// <summary>The character stripped from the ends of the whole (fused) text.</summary>
    public char StripContent;

    /// <summary>How many <see cref="StripContent"/> characters are stripped from the start of the whole text.</summary>
    public int StripStart;

    /// <summary>How many <see cref="StripContent"/> characters are stripped from the end of the whole text.</summary>
    public int StripStop;
}

/// <summary>A token on its way through the decoder steps: text, or raw bytes once a step has produced them.</summary>
internal struct TokenPiece
{
    public string? Text;
    public byte[]? Bytes;

    /// <summary>The token is an added token (written as-is rather than in a model alphabet).</summary>
    public bool IsAdded;
}
