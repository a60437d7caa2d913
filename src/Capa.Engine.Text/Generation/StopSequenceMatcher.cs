using System.Text;
using Capa.Tokenizers.Text;

namespace Capa.Engine.Text.Generation;

/// <summary>
/// Finds stop sequences in streamed text, across token boundaries, and holds back text that may be the start of one,
/// so a stop sequence is never emitted, not even in part (the held-back tail is <see cref="PartialMatch"/>'s).
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _pending = new();

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
        if (Stopped)
        {
            return string.Empty;
        }

        _pending.Append(text);
        if (_stops.Length == 0)
        {
            return Drain(_pending.Length);
        }

        var pending = _pending.ToString();
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        if (first >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return pending[..first];
        }

        return Drain(pending.Length - PartialMatch.SuffixLength(pending, _stops));
    }

    /// <summary>Ends the stream: returns the held-back text (it did not turn into a stop sequence).</summary>
    public string Flush()
    {
        if (Stopped)
        {
            return string.Empty;
        }

        return Drain(_pending.Length);
    }

    private string Drain(int count)
    {
        if (count <= 0)
        {
            return string.Empty;
        }

        var text = _pending.ToString(0, count);
        _pending.Remove(0, count);
        return text;
    }
}
