using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>A tokenizer that spells every id as "&lt;id&gt;": enough for the loop, which only needs ids and text.</summary>
internal sealed class IdTokenizer(int size) : IGenerationTokenizer
{
    public int VocabSize => size;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) => throw new NotSupportedException();

    public bool IsSpecial(int id) => false;

    public byte[] GetTokenBytes(int id) => System.Text.Encoding.UTF8.GetBytes($"<{id}>");

    public IStreamingDetokenizer CreateStreamingDetokenizer() => new Detokenizer();

    private sealed class Detokenizer : IStreamingDetokenizer
    {
        public string Append(int id) => $"<{id}>";

        public string Flush() => string.Empty;
    }
}
