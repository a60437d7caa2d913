namespace Capa.Constraints.Grammars;

/// <summary>
/// A JSON object with known properties, emitted in declaration order: after property i only properties
/// i+1 .. (the next required one) may follow, and the object closes once every required property is
/// present. Keys are matched through a byte trie of their JSON encodings (quotes included). No other keys
/// are produced, which satisfies any <c>additionalProperties</c>.
/// </summary>
internal sealed class ObjectNode : Node
{
    private const int ExpectOpen = 0;
    private const int AfterOpen = 1;
    private const int InKey = 2;
    private const int AfterKey = 3;
    private const int AfterColon = 4;
    private const int InValue = 5;
    private const int AfterValue = 6;
    private const int AfterComma = 7;

    private readonly int _maxWhitespace;
    private readonly List<Dictionary<byte, int>> _trie = [new()];
    private readonly List<int> _terminal = [-1];
    private readonly List<List<int>> _indices = [[]];
    private int[] _nextRequired = [];

    public ObjectNode(IReadOnlyList<ObjectProperty> properties, int maxWhitespace)
    {
        _maxWhitespace = maxWhitespace;
        Properties = [.. properties];
        Rebuild();
    }

    public ObjectProperty[] Properties { get; private set; }

    /// <summary>Drops optional properties that cannot be produced (found after compilation).</summary>
    public void RemoveProperties(Func<ObjectProperty, bool> remove)
    {
        Properties = [.. Properties.Where(p => !remove(p))];
        _trie.Clear();
        _trie.Add([]);
        _terminal.Clear();
        _terminal.Add(-1);
        _indices.Clear();
        _indices.Add([]);
        Rebuild();
    }

    private void Rebuild()
    {
        for (int i = 0; i < Properties.Length; i++)
        {
            int node = 0;
            _indices[0].Add(i);
            foreach (byte b in Properties[i].EncodedKey)
            {
                if (!_trie[node].TryGetValue(b, out int next))
                {
                    next = _trie.Count;
                    _trie.Add([]);
                    _terminal.Add(-1);
                    _indices.Add([]);
                    _trie[node][b] = next;
                }

                node = next;
                _indices[node].Add(i);
            }

            _terminal[node] = i;
        }

        // _nextRequired[k]: the first required property with index >= k, or Length when none.
        _nextRequired = new int[Properties.Length + 1];
        _nextRequired[Properties.Length] = Properties.Length;
        for (int i = Properties.Length - 1; i >= 0; i--)
        {
            _nextRequired[i] = Properties[i].Required ? i : _nextRequired[i + 1];
        }
    }

    private bool CanClose(int last) => _nextRequired[last + 1] == Properties.Length;

    private int Limit(int last) => Math.Min(_nextRequired[last + 1], Properties.Length - 1);

    private bool AnyAllowed(int trieNode, int last)
    {
        int limit = Limit(last);
        foreach (int i in _indices[trieNode])
        {
            if (i > last && i <= limit)
            {
                return true;
            }
        }

        return false;
    }

    public override Frame Initial(Frame? parent) => new ObjectFrame(this, ExpectOpen, -1, 0, 0) { Parent = parent };

    public override bool CanEndHere(Frame frame) => false;

    public override Frame ChildDone(Frame frame) => (ObjectFrame)frame with { Phase = AfterValue, Whitespace = 0 };

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (ObjectFrame)frame;
        if (f.Phase == InKey)
        {
            StepKey(f, b, sink);
            return;
        }

        if (f.Phase == ExpectOpen)
        {
            if (b == '{')
            {
                sink.Emit(f with { Phase = AfterOpen });
            }

            return;
        }

        if (IsWhitespace(b))
        {
            if (f.Whitespace < _maxWhitespace)
            {
                sink.Emit(f with { Whitespace = f.Whitespace + 1 });
            }

            return;
        }

        switch (f.Phase)
        {
            case AfterOpen:
                if (b == '}' && CanClose(f.Last))
                {
                    sink.Done(f, b, consumed: true);
                }
                else
                {
                    StepKey(f with { Phase = InKey, Key = 0, Whitespace = 0 }, b, sink);
                }

                break;
            case AfterKey:
                if (b == ':')
                {
                    sink.Emit(f with { Phase = AfterColon, Whitespace = 0 });
                }

                break;
            case AfterColon:
                sink.PushAndFeed(Properties[f.Last].Value, f with { Phase = InValue, Whitespace = 0 }, b);
                break;
            case AfterValue:
                if (b == '}' && CanClose(f.Last))
                {
                    sink.Done(f, b, consumed: true);
                }
                else if (b == ',' && f.Last + 1 < Properties.Length)
                {
                    sink.Emit(f with { Phase = AfterComma, Whitespace = 0 });
                }

                break;
            case AfterComma:
                StepKey(f with { Phase = InKey, Key = 0, Whitespace = 0 }, b, sink);
                break;
        }
    }

    private void StepKey(ObjectFrame f, byte b, StepSink sink)
    {
        if (!_trie[f.Key].TryGetValue(b, out int next) || !AnyAllowed(next, f.Last))
        {
            return;
        }

        int property = _terminal[next];
        sink.Emit(property >= 0
            ? f with { Phase = AfterKey, Last = property, Key = 0 }
            : f with { Key = next });
    }
}

/// <summary>One property of an <see cref="ObjectNode"/>; <see cref="EncodedKey"/> is the key as JSON, quotes included.</summary>
internal sealed record ObjectProperty(string Name, byte[] EncodedKey, Node Value, bool Required)
{
    public Node Value { get; set; } = Value;
}

/// <summary><see cref="Last"/> is the index of the last property written (the one being written from AfterKey on).</summary>
internal sealed record ObjectFrame(ObjectNode Owner, int Phase, int Last, int Key, int Whitespace) : Frame
{
    public override Node Node => Owner;
}
