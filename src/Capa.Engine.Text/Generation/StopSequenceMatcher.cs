using Capa.Tokenizers.Text;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Finds stop sequences in streamed text, across token boundaries, and holds back text that may be the start of one,
/// so a stop sequence is never emitted, not even in part (the held-back tail is <see cref="PartialMatch"/>'s).
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;

    // The held-back text, in a buffer reused from token to token: a piece that passes straight through is returned as
    // it came, so the common step allocates nothing.
    private char[] _pending = [];
    private int _length;

    /// <summary>Creates a matcher for the given stop sequences (empty strings are ignored).</summary>
    public StopSequenceMatcher(IEnumerable<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = [.. stops.Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Whether a stop sequence was found; after that, <see cref="Push"/> returns nothing.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds text and returns what is now safe to emit (the text before a found stop, or all text that cannot begin one).</summary>
    public string Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Stopped || text.Length == 0)
        {
            return string.Empty;
        }

        if (_stops.Length == 0)
        {
            return text;
        }

        if (_length == 0)
        {
            // Nothing held: the piece alone decides, and when it neither holds a stop nor ends in the start of one it is
            // returned as it is.
            int stop = FirstStop(text);
            if (stop >= 0)
            {
                Stopped = true;
                return text[..stop];
            }

            int hold = PartialMatch.SuffixLength(text, _stops);
            if (hold == 0)
            {
                return text;
            }

            Hold(text.AsSpan(text.Length - hold));
            return text[..^hold];
        }

        if (_pending.Length < _length + text.Length)
        {
            Array.Resize(ref _pending, Math.Max(_length + text.Length, _pending.Length * 2));
        }

        text.AsSpan().CopyTo(_pending.AsSpan(_length));
        _length += text.Length;
        var pending = _pending.AsSpan(0, _length);
        int first = FirstStop(pending);
        if (first >= 0)
        {
            Stopped = true;
            _length = 0;
            return first == 0 ? string.Empty : new string(pending[..first]);
        }

        return Drain(_length - PartialMatch.SuffixLength(pending, _stops));
    }

    /// <summary>Ends the stream: returns the held-back text (it did not turn into a stop sequence).</summary>
    public string Flush() => Stopped ? string.Empty : Drain(_length);

    private int FirstStop(ReadOnlySpan<char> text)
    {
        int first = -1;
        foreach (string stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        return first;
    }

    private void Hold(ReadOnlySpan<char> tail)
    {
        if (_pending.Length < tail.Length)
        {
            _pending = new char[Math.Max(tail.Length, 32)];
        }

        tail.CopyTo(_pending);
        _length = tail.Length;
    }

    private string Drain(int count)
    {
        if (count <= 0)
        {
            return string.Empty;
        }

        var text = new string(_pending, 0, count);
        _pending.AsSpan(count, _length - count).CopyTo(_pending);
        _length -= count;
        return text;
    }
}
