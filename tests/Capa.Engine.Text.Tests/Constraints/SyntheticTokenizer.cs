using System.Text;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Constraints;

/// <summary>
/// A small vocabulary for mask tests: every single byte, a few multi-byte JSON pieces, one special token and an
/// end-of-sequence token. Ids are stable, so tests can name them.
/// </summary>
internal sealed class SyntheticTokenizer : IGenerationTokenizer
{
    private static readonly string[] Pieces =
    [
        "{\"", "\":", "\": ", "\"}", ", \"", "true", "false", "null", "  ", "\n", "{}", "[]", "12", "0.5", "e+", "name", "arguments",
        "<tool_call>", "</tool_call>", "get_weather", "city", "unit", "celsius", "\"\"",
    ];

    private readonly List<byte[]> _tokens = [];

    public SyntheticTokenizer()
    {
        for (var b = 0; b < 256; b++)
        {
            _tokens.Add([(byte)b]);
        }

        foreach (var piece in Pieces)
        {
            _tokens.Add(Encoding.UTF8.GetBytes(piece));
        }

        SpecialId = _tokens.Count;
        _tokens.Add(Encoding.UTF8.GetBytes("<|im_start|>"));
        EosId = _tokens.Count;
        _tokens.Add(Encoding.UTF8.GetBytes("<|endoftext|>"));
    }

    public int SpecialId { get; }

    public int EosId { get; }

    public int VocabSize => _tokens.Count;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) => [.. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];

    public bool IsSpecial(int id) => id == SpecialId || id == EosId;

    public byte[] GetTokenBytes(int id) => _tokens[id];

    public IStreamingDetokenizer CreateStreamingDetokenizer() => throw new NotSupportedException();

    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString([.. ids.Where(id => !IsSpecial(id)).SelectMany(id => _tokens[id])]);
}
