using System.Buffers;
using System.Text.Unicode;
using Capa.Tokenizers.Decoders;
using Capa.Tokenizers.Text;

namespace Capa.Tokenizers;

/// <summary>
/// Turns generated ids into text as it becomes final: never half a UTF-8 character (Chinese and emoji spread over byte
/// tokens are held until complete), and the concatenation of everything returned equals
/// <see cref="HfTokenizer.Decode(ReadOnlySpan{int}, bool)"/> of all ids, including the leading-space rule of SentencePiece
/// decoders, wherever the ids spell valid UTF-8 (an invalid byte becomes U+FFFD as soon as it is known to be one).
/// Incremental: each id adds its bytes (the table of <see cref="HfTokenizer.GetTokenBytes"/>) to a reused buffer and only
/// the characters they complete are decoded, so a token costs no garbage beyond the returned string. Not thread-safe: one
/// instance per generated sequence.
/// </summary>
public sealed class StreamingDetokenizer
{
    // A UTF-8 character is at most 4 bytes: the incomplete tail held between tokens is shorter.
    private const int InitialCapacity = 64;

    private readonly HfTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly StreamShape _shape;
    private readonly bool _cleanUp;

    // Bytes not yet decoded: the incomplete tail of a character, then the new token's bytes.
    private byte[] _bytes = new byte[InitialCapacity];
    private int _byteCount;

    // The tail came from byte-fallback tokens (decoded strictly) rather than byte-level ones.
    private bool _tailIsFallbackRun;

    // Decoded text not yet returned: what clean-up held back, then this token's characters.
    private char[] _text = new char[InitialCapacity];
    private int _textLength;

    // A token has been seen since the start (first-token rules, the separator of decoder-less tokenizers).
    private bool _started;

    // Leading strip characters still to drop, and trailing strip characters held back (all of them the strip character).
    private int _leadingToStrip;
    private int _trailingHeld;

    internal StreamingDetokenizer(HfTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        _shape = tokenizer.StreamShape;
        _cleanUp = tokenizer.CleanUpTokenizationSpaces;
        _leadingToStrip = _shape.StripStart;
    }

    /// <summary>Adds one generated id and returns the text that is now final (often empty).</summary>
    public string Append(int id)
    {
        var piece = _tokenizer.GetStreamPiece(id, _skipSpecialTokens, first: !_started);
        if (piece.Kind == StreamPieceKind.Skip)
        {
            return string.Empty;
        }

        int before = _textLength;
        var bytes = piece.Bytes.Span;
        switch (piece.Kind)
        {
            case StreamPieceKind.Utf8Bytes:
            case StreamPieceKind.FallbackByte:
                bool fallback = piece.Kind == StreamPieceKind.FallbackByte;
                if (_byteCount > 0 && _tailIsFallbackRun != fallback)
                {
                    FinishTail();
                }

                _tailIsFallbackRun = fallback;
                DecodeBytes(bytes, strict: fallback);
                break;
            default:
                FinishTail();
                if (_started && _tokenizer.JoinsWithSpaces)
                {
                    Emit(" ");
                }

                DecodeBytes(bytes, strict: false);
                FinishTail();
                break;
        }

        _started = true;
        return _textLength == before ? string.Empty : Release(final: false);
    }

    /// <summary>Returns whatever text is still held (an incomplete character becomes U+FFFD) and starts afresh.</summary>
    public string Flush()
    {
        FinishTail();

        // The end of the text has come: trailing strip characters held back are stripped.
        _trailingHeld = 0;
        string result = Release(final: true);
        _started = false;
        _leadingToStrip = _shape.StripStart;
        return result;
    }

    // Appends bytes after the held tail and decodes every character they complete; an incomplete tail stays. Byte-level
    // bytes replace invalid sequences as the whole decode does (U+FFFD per maximal invalid part); a byte-fallback run is
    // strict, its invalid bytes one U+FFFD each.
    private void DecodeBytes(ReadOnlySpan<byte> bytes, bool strict)
    {
        EnsureCapacity(ref _bytes, _byteCount + bytes.Length);
        bytes.CopyTo(_bytes.AsSpan(_byteCount));
        _byteCount += bytes.Length;

        // Every byte decodes to at most one UTF-16 unit (a 4-byte character to two).
        char[]? rented = null;
        Span<char> chars = _byteCount <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(_byteCount));
        try
        {
            var status = Utf8.ToUtf16(_bytes.AsSpan(0, _byteCount), chars, out int read, out int written, replaceInvalidSequences: !strict, isFinalBlock: false);
            Emit(chars[..written]);
            if (status == OperationStatus.InvalidData)
            {
                EmitReplacements(_byteCount - read);
                read = _byteCount;
            }

            _bytes.AsSpan(read, _byteCount - read).CopyTo(_bytes);
            _byteCount -= read;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    // The bytes held for an unfinished character will not be finished: they become U+FFFD as in the whole decode.
    private void FinishTail()
    {
        if (_byteCount == 0)
        {
            return;
        }

        if (_tailIsFallbackRun)
        {
            EmitReplacements(_byteCount);
        }
        else
        {
            Span<char> chars = stackalloc char[4];
            Utf8.ToUtf16(_bytes.AsSpan(0, _byteCount), chars, out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
            Emit(chars[..written]);
        }

        _byteCount = 0;
    }

    private void EmitReplacements(int count)
    {
        Span<char> one = ['\uFFFD'];
        for (int i = 0; i < count; i++)
        {
            Emit(one);
        }
    }

    // Adds decoded characters to the text to return, applying the decoder's strip of the whole text's ends.
    private void Emit(ReadOnlySpan<char> chars)
    {
        if (_shape.StripStart == 0 && _shape.StripStop == 0)
        {
            Write(chars);
            return;
        }

        char strip = _shape.StripContent;
        while (_leadingToStrip > 0 && chars.Length > 0)
        {
            if (chars[0] != strip)
            {
                _leadingToStrip = 0;
                break;
            }

            chars = chars[1..];
            _leadingToStrip--;
        }

        if (chars.IsEmpty || _shape.StripStop == 0)
        {
            Write(chars);
            return;
        }

        // The strip characters at the end may be the end of the text: hold back as many as the decoder strips there.
        int trailing = chars.Length - chars.TrimEnd(strip).Length;
        if (trailing < chars.Length)
        {
            WriteRepeated(strip, _trailingHeld);
            _trailingHeld = 0;
            Write(chars[..^trailing]);
        }

        _trailingHeld += trailing;
        int released = Math.Max(0, _trailingHeld - _shape.StripStop);
        WriteRepeated(strip, released);
        _trailingHeld -= released;
    }

    private void WriteRepeated(char c, int count)
    {
        EnsureCapacity(ref _text, _textLength + count);
        _text.AsSpan(_textLength, count).Fill(c);
        _textLength += count;
    }

    private void Write(ReadOnlySpan<char> chars)
    {
        EnsureCapacity(ref _text, _textLength + chars.Length);
        chars.CopyTo(_text.AsSpan(_textLength));
        _textLength += chars.Length;
    }

    // Returns the pending text, less the tail that clean-up may still change once more text arrives.
    private string Release(bool final)
    {
        int length = _textLength;
        int hold = 0;
        if (_cleanUp)
        {
            length = HfTokenizer.CleanUp(_text.AsSpan(0, _textLength));
            hold = final ? 0 : PartialMatch.SuffixLength(_text.AsSpan(0, length), HfTokenizer.CleanUpPatterns);
        }

        string result = length == hold ? string.Empty : new string(_text, 0, length - hold);
        _text.AsSpan(length - hold, hold).CopyTo(_text);
        _textLength = hold;
        return result;
    }

    private static void EnsureCapacity<T>(ref T[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            Array.Resize(ref buffer, Math.Max(needed, buffer.Length * 2));
        }
    }
}
