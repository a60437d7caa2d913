using Capa.Tokenizers.Text;

namespace Capa.Tokenizers.Tests;

/// <summary>
/// The streaming decode Capa used before <see cref="StreamingDetokenizer"/> became incremental, kept as the reference the
/// new one is compared with: every id decodes the window of ids since the previous emission twice (with and without the
/// new id) and emits the difference once it no longer ends in U+FFFD (or after 8 pending ids).
/// </summary>
internal sealed class WindowedDetokenizer(HfTokenizer tokenizer, bool skipSpecialTokens)
{
    private const int MaxPendingTokens = 8;

    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;
    private string _heldBack = string.Empty;

    public string Append(int id)
    {
        if (skipSpecialTokens && tokenizer.IsSpecial(id))
        {
            return string.Empty;
        }

        _ids.Add(id);
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = tokenizer.Decode(span[_prefixOffset.._readOffset], skipSpecialTokens, cleanUp: false);
        string newText = tokenizer.Decode(span[_prefixOffset..], skipSpecialTokens, cleanUp: false);
        bool complete = !newText.EndsWith('\uFFFD') || _ids.Count - _readOffset >= MaxPendingTokens;
        if (newText.Length <= prefixText.Length || !complete)
        {
            return string.Empty;
        }

        string delta = newText[prefixText.AsSpan().CommonPrefixLength(newText)..];
        _prefixOffset = _readOffset;
        _readOffset = _ids.Count;
        return Release(delta, final: false);
    }

    public string Flush()
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);
        string prefixText = tokenizer.Decode(span[_prefixOffset.._readOffset], skipSpecialTokens, cleanUp: false);
        string newText = tokenizer.Decode(span[_prefixOffset..], skipSpecialTokens, cleanUp: false);
        string delta = newText.Length > prefixText.Length ? newText[prefixText.AsSpan().CommonPrefixLength(newText)..] : string.Empty;
        string result = Release(delta, final: true);
        _ids.Clear();
        _prefixOffset = 0;
        _readOffset = 0;
        return result;
    }

    private string Release(string delta, bool final)
    {
        if (!tokenizer.CleanUpTokenizationSpaces)
        {
            return delta;
        }

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
