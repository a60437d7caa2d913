namespace Capa.Tokenizers;

/// <summary>
/// What a sentence encoder needs of its tokenizer: ids for a text with the model's special tokens around them, read
/// no further than a limit. <see cref="WordPiece.WordPieceTokenizer"/> (BERT) and <see cref="HfTokenizer"/>
/// (Unigram for XLM-RoBERTa, BPE for RoBERTa) provide it.
/// </summary>
public interface IEncoderTokenizer
{
    /// <summary>The number of ids (the largest id plus one).</summary>
    int VocabSize { get; }

    /// <summary>Ids added around every sequence (e.g. <c>[CLS]</c> before and <c>[SEP]</c> after).</summary>
    int SpecialTokenCount { get; }

    /// <summary>
    /// Encodes a text, stopping as soon as it has more than <paramref name="maxTokens"/> ids: then
    /// <paramref name="complete"/> is false and the ids are the first ones only (more than <paramref name="maxTokens"/>).
    /// </summary>
    int[] Encode(string text, bool addSpecialTokens, int maxTokens, out bool complete);

    /// <summary>Encodes a whole text.</summary>
    int[] Encode(string text, bool addSpecialTokens);

    /// <summary>The token of an id, or null.</summary>
    string? IdToToken(int id);
}
