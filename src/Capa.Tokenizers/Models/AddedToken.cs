namespace Capa.Tokenizers.Models;

/// <summary>A token declared in tokenizer.json's "added_tokens" (or tokenizer_config's added_tokens_decoder).</summary>
internal sealed record AddedToken(int Id, string Content)
{
    public bool Special { get; init; }

    public bool LStrip { get; init; }

    public bool RStrip { get; init; }

    public bool SingleWord { get; init; }

    /// <summary>Whether the token is looked for in normalized text (true) or in the raw input (false).</summary>
    public bool Normalized { get; init; }
}
