namespace Capa.Engine.Text.Generation;

/// <summary>Maps token ids to input embeddings, for decoders whose graph takes <c>inputs_embeds</c>.</summary>
public interface ITokenEmbedder
{
    /// <summary>Width of one embedding row.</summary>
    int HiddenSize { get; }

    /// <summary>Writes the embeddings of <paramref name="ids"/>, row-major [ids, <see cref="HiddenSize"/>], into <paramref name="destination"/>.</summary>
    void Embed(ReadOnlySpan<int> ids, Span<float> destination);
}
