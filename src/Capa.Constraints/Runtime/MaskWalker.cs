using Capa.Constraints.Grammars;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Runtime;

/// <summary>
/// Walks the token trie with a set of automaton configurations, pruning a subtree at its first rejected
/// byte. One walker per sequence state: it owns reusable buffers and is not thread-safe.
/// </summary>
internal sealed class MaskWalker
{
    /// <summary>Configurations beyond this are dropped: each one left can still finish, so output stays valid.</summary>
    public const int MaxConfigurations = 64;

    private readonly TokenTrie _trie;
    private readonly int _words;
    private readonly StepSink _sink = new();
    private readonly List<List<Frame>> _levels = [];
    private HashSet<(int, byte, bool)>? _deferrals;
    private readonly List<Frame> _simulated = [];
    private readonly List<Frame> _simulatedSpare = [];

    public MaskWalker(TokenVocabulary vocabulary)
    {
        _trie = vocabulary.Trie;
        _words = vocabulary.MaskWords;
    }

    public MaskEntry ComputeEntry(Frame key)
    {
        var bits = new ulong[_words];
        _deferrals = [];
        try
        {
            Walk(0, [key], 0, bits);
            return new MaskEntry(bits, [.. _deferrals]);
        }
        finally
        {
            _deferrals = null;
        }
    }

    /// <summary>Adds to <paramref name="bits"/> every token accepted from real configuration <paramref name="config"/>.</summary>
    public void AddMask(TokenConstraint owner, Frame config, Span<ulong> bits)
    {
        if (config is EndFrame)
        {
            return;
        }

        MaskEntry entry = owner.GetEntry(config with { Parent = SentinelFrame.Instance }, this);
        entry.AddTo(bits);

        foreach ((int node, byte b, bool consumed) in entry.Deferrals)
        {
            List<Frame> resumed = Level(0);
            resumed.Clear();
            _sink.Output = resumed;
            _sink.Deferrals.Clear();
            _sink.Done(config, b, consumed);
            if (resumed.Count == 0)
            {
                continue;
            }

            Dedupe(resumed);
            MarkTokens(node, bits);
            Walk(node, resumed, 1, bits);
        }
    }

    private List<Frame> Level(int depth)
    {
        while (_levels.Count <= depth)
        {
            _levels.Add([]);
        }

        return _levels[depth];
    }

    private void MarkTokens(int node, Span<ulong> bits)
    {
        for (int k = _trie.TokenStart[node]; k < _trie.TokenStart[node + 1]; k++)
        {
            int id = _trie.TokenIds[k];
            bits[id >> 6] |= 1UL << (id & 63);
        }
    }

    private void Walk(int node, List<Frame> configs, int depth, Span<ulong> bits)
    {
        List<Frame> next = Level(depth + 1);
        for (int c = _trie.ChildStart[node]; c < _trie.ChildStart[node + 1]; c++)
        {
            byte b = _trie.ChildByte[c];
            int child = _trie.ChildNode[c];
            next.Clear();
            _sink.Output = next;
            _sink.Deferrals.Clear();
            foreach (Frame f in configs)
            {
                f.Node.Step(f, b, _sink);
            }

            if (_sink.Deferrals.Count > 0 && _deferrals is not null)
            {
                foreach ((byte db, bool consumed) in _sink.Deferrals)
                {
                    _deferrals.Add((child, db, consumed));
                }
            }

            if (next.Count == 0)
            {
                continue;
            }

            Dedupe(next);
            MarkTokens(child, bits);
            Walk(child, next, depth + 1, bits);
        }
    }

    public static void Dedupe(List<Frame> frames)
    {
        if (frames.Count < 2)
        {
            return;
        }

        for (int i = frames.Count - 1; i > 0; i--)
        {
            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(frames[i], frames[j]) || frames[i].Equals(frames[j]))
                {
                    frames.RemoveAt(i);
                    break;
                }
            }
        }

        if (frames.Count > MaxConfigurations)
        {
            frames.RemoveRange(MaxConfigurations, frames.Count - MaxConfigurations);
        }
    }

    /// <summary>
    /// Steps every configuration by the bytes; the result is empty when the bytes are rejected. The list returned is one
    /// of two the walker reuses from call to call (a check or an advance costs no list per byte): it is valid until the
    /// next call, and a caller that keeps the configurations copies them (<paramref name="configs"/> is never one of them).
    /// </summary>
    public List<Frame> Simulate(IReadOnlyList<Frame> configs, ReadOnlySpan<byte> bytes)
    {
        IReadOnlyList<Frame> current = configs;
        List<Frame> target = _simulated;
        List<Frame> other = _simulatedSpare;
        if (bytes.IsEmpty)
        {
            target.Clear();
            for (int i = 0; i < configs.Count; i++)
            {
                target.Add(configs[i]);
            }

            return target;
        }

        foreach (byte b in bytes)
        {
            target.Clear();
            _sink.Output = target;
            _sink.Deferrals.Clear();
            for (int i = 0; i < current.Count; i++)
            {
                Frame f = current[i];
                f.Node.Step(f, b, _sink);
            }

            Dedupe(target);
            current = target;
            if (target.Count == 0)
            {
                break;
            }

            (target, other) = (other, target);
        }

        return (List<Frame>)current;
    }
}
