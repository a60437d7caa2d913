using System.Globalization;
using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>
/// Carries the provenance of control texts written by data through a render. Before rendering, the first character
/// of every control text (a special token) that occurs in a data string, or that a data string begins or ends with a
/// piece of, is replaced by a private-use character absent from the data and the template; whatever the template does
/// with the string (slices, splits, trims, case changes, JSON) carries that character along. After rendering each
/// such character is restored and its position reported. One instance per render.
/// </summary>
/// <remarks>
/// Templates see the stand-in instead of the original character only at marked positions, which hold control text
/// that data has no business writing; a template that tests data for a special token sees no match. A filter that
/// rewrites the marked character itself (HTML escaping of <c>&lt;</c>) leaves it as the original character.
/// </remarks>
internal sealed class DataMarker
{
    private const char PrivateUseFirst = '\uE000';
    private const char PrivateUseLast = '\uF8FF';

    private readonly TemplateDataMarking _marking;
    private readonly bool[] _used = new bool[PrivateUseLast - PrivateUseFirst + 1];
    private readonly Dictionary<char, char> _standIns = [];
    private readonly Dictionary<char, char> _originals = [];
    private int _nextFree;

    public DataMarker(TemplateDataMarking marking, string templateSource)
    {
        _marking = marking;
        NoteUsed(templateSource);
    }

    /// <summary>Converts the variables, marking the strings of every data variable.</summary>
    public Dictionary<string, object?> Prepare(IReadOnlyDictionary<string, object?> variables)
    {
        var converted = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var (name, value) in variables)
        {
            converted[name] = ValueConverter.FromObject(value);
        }

        // Stand-ins must be absent from every input string, markup included, so that only marks map back.
        foreach (var value in converted.Values)
        {
            Visit(value, NoteUsed);
        }

        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in converted)
        {
            result[name] = _marking.MarkupVariables.Contains(name) ? value : Mark(value);
        }

        return result;
    }

    /// <summary>Restores the marked characters of rendered text and reports where they are.</summary>
    public MarkedText Finish(string rendered)
    {
        if (_originals.Count == 0)
        {
            return new MarkedText(rendered, []);
        }

        var positions = new List<int>();
        var text = new StringBuilder(rendered.Length);
        var stops = System.Buffers.SearchValues.Create([.. _originals.Keys, '\\']);
        for (int i = 0; i < rendered.Length; i++)
        {
            // Runs without a stand-in (or an escape that may write one) are copied whole.
            int run = rendered.AsSpan(i).IndexOfAny(stops);
            if (run != 0)
            {
                int length = run < 0 ? rendered.Length - i : run;
                text.Append(rendered, i, length);
                i += length - 1;
                continue;
            }

            char c = rendered[i];
            if (_originals.TryGetValue(c, out char original))
            {
                positions.Add(text.Length);
                text.Append(original);
                continue;
            }

            // tojson with ensure_ascii writes the stand-in as an escape; the original would have been written as is.
            if (c == '\\' && i + 5 < rendered.Length && rendered[i + 1] == 'u'
                && int.TryParse(rendered.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code)
                && _originals.TryGetValue((char)code, out original))
            {
                positions.Add(text.Length);
                text.Append(original);
                i += 5;
                continue;
            }

            text.Append(c);
        }

        return new MarkedText(text.ToString(), positions);
    }

    private void NoteUsed(string s)
    {
        var rest = s.AsSpan();
        for (int i = rest.IndexOfAnyInRange(PrivateUseFirst, PrivateUseLast); i >= 0; i = rest.IndexOfAnyInRange(PrivateUseFirst, PrivateUseLast))
        {
            _used[rest[i] - PrivateUseFirst] = true;
            rest = rest[(i + 1)..];
        }
    }

    private static void Visit(Value value, Action<string> action)
    {
        switch (value)
        {
            case StringValue s:
                action(s.Value);
                break;
            case ListValue list:
                foreach (var item in list.Items)
                {
                    Visit(item, action);
                }

                break;
            case DictValue dict:
                foreach (var (key, item) in dict.Entries)
                {
                    action(key);
                    Visit(item, action);
                }

                break;
        }
    }

    private Value Mark(Value value)
    {
        switch (value)
        {
            case StringValue s:
                string marked = MarkString(s.Value);
                return ReferenceEquals(marked, s.Value) ? s : new StringValue(marked);
            case ListValue list:
                return new ListValue([.. list.Items.Select(Mark)], list.IsTuple);
            case DictValue dict:
                var entries = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
                foreach (var (key, item) in dict.Entries)
                {
                    entries[MarkString(key)] = Mark(item);
                }

                return new DictValue(entries);
            default:
                return value;
        }
    }

    // The string with the first character of each control text in it (and of a piece of one at either edge) replaced.
    private string MarkString(string s)
    {
        char[]? chars = null;
        var firstChars = _marking.FirstChars;
        for (int i = s.AsSpan().IndexOfAny(firstChars); i >= 0; i = IndexOfAny(s, i + 1, firstChars))
        {
            if (StartsControlText(s, i))
            {
                chars ??= s.ToCharArray();
                chars[i] = StandIn(s[i]);
            }
        }

        // A string that begins with the tail of a control text could complete one that markup before it opened.
        int longest = Math.Min(_marking.MaxLength - 1, s.Length);
        for (int k = 2; k <= longest; k++)
        {
            if (_marking.EdgeSuffixes.Contains(s[..k]))
            {
                chars ??= s.ToCharArray();
                chars[0] = StandIn(s[0]);
                break;
            }
        }

        return chars is null ? s : new string(chars);
    }

    private static int IndexOfAny(string s, int from, System.Buffers.SearchValues<char> values)
    {
        int found = s.AsSpan(from).IndexOfAny(values);
        return found < 0 ? -1 : from + found;
    }

    // Whether a control text starts at i, or a proper prefix of one runs to the end of s.
    private bool StartsControlText(string s, int i)
    {
        var node = _marking.Root;
        for (int j = i; j < s.Length; j++)
        {
            if (node.Children is null || !node.Children.TryGetValue(s[j], out node))
            {
                return false;
            }

            if (node.IsEnd)
            {
                return true;
            }
        }

        // A piece of a control text at the end of the string: markup after it could complete it.
        return s.Length - i >= 2;
    }

    private char StandIn(char original)
    {
        if (_standIns.TryGetValue(original, out char standIn))
        {
            return standIn;
        }

        while (_nextFree < _used.Length && _used[_nextFree])
        {
            _nextFree++;
        }

        if (_nextFree == _used.Length)
        {
            throw new TemplateException("The messages use every private-use character; the prompt cannot be marked.", TemplateErrorKind.Runtime, null, null);
        }

        standIn = (char)(PrivateUseFirst + _nextFree++);
        _standIns[original] = standIn;
        _originals[standIn] = original;
        return standIn;
    }
}
