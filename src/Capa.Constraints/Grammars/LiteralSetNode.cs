namespace Capa.Constraints.Grammars;

/// <summary>
/// Matches one of a set of byte strings (the JSON encodings of enum / const values) through a byte trie.
/// A value that is a prefix of another (numbers: 1 and 12) completes when the next byte cannot extend it.
/// </summary>
internal sealed class LiteralSetNode : Node
{
    private readonly List<Dictionary<byte, int>> _children = [new()];
    private readonly List<bool> _terminal = [false];

    public LiteralSetNode(IEnumerable<byte[]> values)
    {
        int count = 0;
        foreach (byte[] value in values)
        {
            if (value.Length == 0)
            {
                throw new ArgumentException("A literal must not be empty.", nameof(values));
            }

            int node = 0;
            foreach (byte b in value)
            {
                if (!_children[node].TryGetValue(b, out int next))
                {
                    next = _children.Count;
                    _children.Add([]);
                    _terminal.Add(false);
                    _children[node][b] = next;
                }

                node = next;
            }

            _terminal[node] = true;
            count++;
        }

        if (count == 0)
        {
            throw new ArgumentException("A literal set must not be empty.", nameof(values));
        }
    }

    public override Frame Initial(Frame? parent) => new LiteralSetFrame(this, 0) { Parent = parent };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (LiteralSetFrame)frame;
        if (_children[f.TrieNode].TryGetValue(b, out int next))
        {
            if (_terminal[next] && _children[next].Count == 0)
            {
                sink.Done(f, b, consumed: true);
            }
            else
            {
                sink.Emit(f with { TrieNode = next });
            }
        }
        else if (_terminal[f.TrieNode])
        {
            sink.Done(f, b, consumed: false);
        }
    }

    public override bool CanEndHere(Frame frame) => _terminal[((LiteralSetFrame)frame).TrieNode];
}

internal sealed record LiteralSetFrame(LiteralSetNode Owner, int TrieNode) : Frame
{
    public override Node Node => Owner;
}
