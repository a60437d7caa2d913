using System.Runtime.CompilerServices;
using Capa.Constraints.Vocabulary;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Constraints;

/// <summary>
/// Builds the <see cref="TokenVocabulary"/> a constraint masks over from a model's tokenizer, once per tokenizer.
/// Special tokens get no bytes, so a constraint never allows them; end-of-sequence ids are allowed exactly when
/// the constrained value is complete. Ids the logits carry beyond the tokenizer are masked by
/// <see cref="ConstraintLogitsProcessor"/>.
/// </summary>
public static class ConstraintVocabularies
{
    private static readonly ConditionalWeakTable<IGenerationTokenizer, TokenVocabulary> Cache = [];

    /// <summary>The vocabulary of <paramref name="tokenizer"/> (cached for the tokenizer's lifetime).</summary>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="endOfSequenceIds">The ids that end generation (the engine's end ids).</param>
    public static TokenVocabulary Get(IGenerationTokenizer tokenizer, IEnumerable<int> endOfSequenceIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(endOfSequenceIds);
        return Cache.GetValue(tokenizer, t => Build(t, endOfSequenceIds));
    }

    /// <summary>Builds a vocabulary without caching it.</summary>
    public static TokenVocabulary Build(IGenerationTokenizer tokenizer, IEnumerable<int> endOfSequenceIds)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(endOfSequenceIds);
        var count = tokenizer.VocabSize;
        var bytes = new ReadOnlyMemory<byte>[count];
        for (var id = 0; id < count; id++)
        {
            bytes[id] = tokenizer.IsSpecial(id) ? ReadOnlyMemory<byte>.Empty : tokenizer.GetTokenBytes(id);
        }

        int[] eos = [.. endOfSequenceIds.Where(id => (uint)id < (uint)count)];
        if (eos.Length == 0)
        {
            throw new ArgumentException("None of the end-of-sequence ids is inside the tokenizer's vocabulary.", nameof(endOfSequenceIds));
        }

        return TokenVocabulary.Create(bytes, eos);
    }
}
