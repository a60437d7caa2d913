namespace Capa.Tokenizers;

/// <summary>A named special token from tokenizer_config.json (bos_token, eos_token, pad_token, unk_token).</summary>
/// <param name="Content">The token's text, e.g. "&lt;|im_end|&gt;".</param>
/// <param name="Id">Its id, or null when the vocabulary does not hold it.</param>
public sealed record SpecialToken(string Content, int? Id);
