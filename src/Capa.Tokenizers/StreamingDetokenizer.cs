using Capa.Tokenizers.Text;

namespace Capa.Tokenizers;

/// <summary>
/// Turns generated ids into text as it becomes final: never half a UTF-8 character (Chinese and emoji spread
/// over byte tokens are held until complete), and the concatenation of everything returned equals
/// <see cref="HfTokenizer.Decode(ReadOnlySpan{int}, bool)"/> of all ids, including the leading-space rule of
/// SentencePiece decoders. Not thread-safe: one instance per generated sequence.
/// </summary>
public sealed class StreamingDetokenizer
{
    // A UTF-8 character spans at most four byte tokens; a window longer than this that still ends in U+FFFD
    // holds an invalid sequence that no later token can repair, so it is released.
    private const int MaxPendingTokens = 8;

    private readonly HfTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;
    private string _heldBack = string.Empty;

    internal StreamingDetokenizer(HfTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds one generated id and returns the text that is now final (often empty).</summary>
    public string Append(int id)
    {
        if (_skipSpecialTokens && _tokenizer.IsSpecial(id))
        {
            return string.Empty;
        }

        _ids.Add(id);
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = _tokenizer.Decode(span[_prefixOffset.._readOffset], _skipSpecialTokens, cleanUp: false);
        string newText = _tokenizer.Decode(span[_prefixOffset..], _skipSpecialTokens, cleanUp: false);
        bool complete = !newText.EndsWith('\uFFFD') || _ids.Count - _readOffset >= MaxPendingTokens;
        if (newText.Length <= prefixText.Length || !complete)
        {
            return string.Empty;
        }

        string delta = newText[CommonPrefixLength(prefixText, newText)..];
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        Compact();
        return Release(delta, final: false);
    }

    /// <summary>Returns whatever text is still held (an incomplete character becomes U+FFFD) and starts afresh.</summary>
    public string Flush()
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = _tokenizer.Decode(span[_prefixOffset.._readOffset], _skipSpecialTokens, cleanUp: false);
        string newText = _tokenizer.Decode(span[_prefixOffset..], _skipSpecialTokens, cleanUp: false);
        string delta = newText.Length > prefixText.Length ? newText[CommonPrefixLength(prefixText, newText)..] : string.Empty;
        string result = Release(delta, final: true);
        _ids.Clear();
        _prefixOffset = 0;
        _readOffset = 0;
        return result;
    }

    // The decoders are prefix-stable (a longer window decodes to an extension of a shorter one's text); where an
    // invalid byte sequence breaks that, the text after the common part is what is new.
    private static int CommonPrefixLength(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    private void Compact()
    {
        // Only ids from the prefix offset on are decoded again: drop the rest once they pile up.
        if (_prefixOffset >= 1024)
        {
            _ids.RemoveRange(0, _prefixOffset);
            _readOffset -= _prefixOffset;
            _prefixOffset = 0;
        }
    }

    private string Release(string delta, bool final)
    {
        if (!_tokenizer.CleanUpTokenizationSpaces)
        {
            return delta;
        }

        // Clean-up removes a space before punctuation that may not have arrived yet: hold back a tail that
        // could still become such a pattern.
        string text = HfTokenizer.CleanUp(_heldBack + delta);
        _heldBack = string.Empty;
        if (final)
        {
            return text;
        }

        int hold = PartialMatch.SuffixLength(text, HfTokenizer.CleanUpPatterns);
        _heldBack = text[^hold..];
        return text[..^hold];
    }
}
