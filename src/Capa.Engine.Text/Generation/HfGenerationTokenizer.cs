using Capa.Tokenizers;

namespace Capa.Engine.Text.Generation;

/// <summary>Adapts <see cref="HfTokenizer"/> (tokenizer.json) to what the generation loop needs.</summary>
public sealed class HfGenerationTokenizer(HfTokenizer tokenizer) : IGenerationTokenizer
{
    /// <summary>The wrapped tokenizer.</summary>
    public HfTokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <inheritdoc/>
    public int VocabSize => Tokenizer.VocabSize;

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens) => Tokenizer.Encode(text, addSpecialTokens);

    /// <inheritdoc/>
    public bool IsSpecial(int id) => Tokenizer.IsSpecial(id);

    /// <inheritdoc/>
    public byte[] GetTokenBytes(int id) => Tokenizer.GetTokenBytes(id).ToArray();

    /// <inheritdoc/>
    public IStreamingDetokenizer CreateStreamingDetokenizer() => new Streaming(Tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: true));

    private sealed class Streaming(StreamingDetokenizer inner) : IStreamingDetokenizer
    {
        public string Append(int id) => inner.Append(id);

        public string Flush() => inner.Flush();
    }
}
