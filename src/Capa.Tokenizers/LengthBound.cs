namespace Capa.Tokenizers;

/// <summary>
/// What a tokenizer stage can do to the length of text: shorten it by at most <see cref="Shrink"/> (UTF-16 units in
/// per unit out), and, when <see cref="DropsWhitespace"/>, drop any amount of whitespace.
/// </summary>
internal readonly record struct LengthBound(double Shrink, bool DropsWhitespace)
{
    public static LengthBound Exact { get; } = new(1, false);

    /// <summary>The stages one after another; null when any is unbounded.</summary>
    public static LengthBound? Combine(IEnumerable<LengthBound?> stages)
    {
        var result = Exact;
        foreach (var stage in stages)
        {
            if (stage is not { } bound)
            {
                return null;
            }

            result = new LengthBound(result.Shrink * bound.Shrink, result.DropsWhitespace || bound.DropsWhitespace);
        }

        return result;
    }
}
