using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// A decoder whose logits are a pure function of the token history (a hash), optionally steered by a script, so the
/// generation loop can be tested without ONNX. Its decode steps (<see cref="DecodeBatch"/>) feed their sequences one by
/// one and are recorded; with <see cref="BatchesDecode"/> it presents itself as a decoder that batches them.
/// </summary>
internal sealed class SyntheticDecoder(int width, int maxContext, Action<IReadOnlyList<int>, float[]>? steer = null) : IDecoderModel
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<ForwardCall> _calls = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<ForwardCall[]> _batches = new();
    private int _live;
    private int _nextId;
    private long _liveTokens;
    private long _maxLiveTokens;

    /// <summary>
    /// One forward: which sequence (numbered in creation order), how many positions it fed, its length before, and the
    /// decode step it belonged to (an index into <see cref="Batches"/>; -1 for a forward of its own, e.g. a prompt chunk).
    /// </summary>
    public readonly record struct ForwardCall(int Sequence, int Tokens, int LengthBefore, int Batch = -1);

    /// <inheritdoc/>
    public bool BatchesDecode { get; init; }

    /// <summary>Runs before each decode step's forwards with the step's slots (sequence, token, length before); it may throw to fail the step.</summary>
    public Action<IReadOnlyList<ForwardCall>>? BeforeBatch { get; init; }

    /// <summary>Positions a sequence reports beyond the tokens it was fed, from its history (a decoder whose inputs take extra positions).</summary>
    public Func<IReadOnlyList<int>, int>? ExtraPositions { get; init; }

    /// <summary>Every decode step so far, in the order they ran, each with its slots in order.</summary>
    public IReadOnlyList<ForwardCall[]> Batches => [.. _batches];

    /// <inheritdoc/>
    public int PrefillChunkTokens { get; init; } = int.MaxValue;

    /// <inheritdoc/>
    public long KvBytesPerToken { get; init; }

    /// <summary>Every forward so far, in the order they ran.</summary>
    public IReadOnlyList<ForwardCall> Calls => [.. _calls];

    /// <summary>The most positions held by live sequences at once (their caches, were they real).</summary>
    public long MaxLiveTokens => Interlocked.Read(ref _maxLiveTokens);

    private void AddTokens(long count)
    {
        var live = Interlocked.Add(ref _liveTokens, count);
        long seen;
        while (live > (seen = Interlocked.Read(ref _maxLiveTokens)) && Interlocked.CompareExchange(ref _maxLiveTokens, live, seen) != seen)
        {
        }
    }

    public int LogitsWidth => width;

    public int MaxContextLength => maxContext;

    /// <summary>Sequences created and not yet disposed.</summary>
    public int LiveSequences => Volatile.Read(ref _live);

    public int ForwardCalls;

    /// <summary>The most sequences alive at once.</summary>
    public int MaxLiveSequences => Volatile.Read(ref _maxLive);

    private int _maxLive;

    private void Track(int live)
    {
        int seen;
        while (live > (seen = Volatile.Read(ref _maxLive)) && Interlocked.CompareExchange(ref _maxLive, live, seen) != seen)
        {
        }
    }

    public IDecoderSequence CreateSequence()
    {
        Track(Interlocked.Increment(ref _live));
        return new Sequence(this, [], Interlocked.Increment(ref _nextId) - 1);
    }

    /// <summary>Records the step, checks the contract (distinct live sequences of this model), then feeds each slot alone.</summary>
    public void DecodeBatch(ReadOnlySpan<DecodeSlot> slots)
    {
        var step = new ForwardCall[slots.Length];
        var index = _batches.Count;
        for (var i = 0; i < slots.Length; i++)
        {
            var sequence = slots[i].Sequence as Sequence ?? throw new ArgumentException("A sequence of another decoder.", nameof(slots));
            step[i] = new ForwardCall(sequence.Id, 1, sequence.Fed, index);
        }

        if (step.Select(c => c.Sequence).Distinct().Count() != step.Length)
        {
            throw new ArgumentException("A sequence appears twice in one decode step.", nameof(slots));
        }

        _batches.Enqueue(step);
        BeforeBatch?.Invoke(step);
        foreach (var slot in slots)
        {
            ((Sequence)slot.Sequence).Forward([slot.Token], index).CopyTo(slot.Logits);
        }
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private sealed class Sequence(SyntheticDecoder owner, List<int> history, int id) : IDecoderSequence
    {
        private readonly float[] _logits = new float[owner.LogitsWidth];
        private bool _disposed;

        public int Id => id;

        public int Fed => history.Count;

        public int Length => history.Count + (owner.ExtraPositions?.Invoke(history) ?? 0);

        public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens) => Forward(tokens, -1);

        public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens, int batch)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Increment(ref owner.ForwardCalls);
            owner._calls.Enqueue(new ForwardCall(id, tokens.Length, history.Count, batch));
            owner.AddTokens(tokens.Length);
            foreach (var t in tokens)
            {
                history.Add(t);
            }

            var h = 1469598103934665603UL;
            foreach (var t in history)
            {
                h = Mix(h ^ (ulong)t);
            }

            for (var i = 0; i < _logits.Length; i++)
            {
                _logits[i] = ((Mix(h + (ulong)i) >> 40) / (float)(1 << 24) * 4f) - 2f;
            }

            owner.Steer(history, _logits);
            return _logits;
        }

        public IDecoderSequence Fork()
        {
            owner.Track(Interlocked.Increment(ref owner._live));
            owner.AddTokens(history.Count);
            var copy = new Sequence(owner, [.. history], Interlocked.Increment(ref owner._nextId) - 1);
            _logits.CopyTo(copy._logits, 0);
            return copy;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                Interlocked.Decrement(ref owner._live);
                owner.AddTokens(-history.Count);
            }
        }
    }

    private void Steer(List<int> history, float[] logits) => steer?.Invoke(history, logits);
}

/// <summary>
/// A tokenizer over a fixed word list: id i is <c>Words[i]</c>; the last two ids are special (end of sequence and
/// another control token). Ids at or above <see cref="VocabSize"/> do not exist (the model is wider).
/// </summary>
internal sealed class WordTokenizer : IGenerationTokenizer
{
    public static readonly string[] Words =
    [
        "a", "b", "c", "d", "e", "f", "g", "h", "Hel", "lo", " wor", "ld", "!", "ST", "OP", " ", "x", "y", "z", "的",
        "中", "文", "😀", "1", "2", "3", "4", "5", "6", "7", "8", "9", "<|end|>", "<|ctl|>",
    ];

    public const int Eos = 32;
    public const int Control = 33;

    public int VocabSize => Words.Length;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens)
    {
        var ids = new List<int>();
        var i = 0;
        while (i < text.Length)
        {
            var best = -1;
            for (var id = 0; id < Control - 1; id++)
            {
                if (text.AsSpan(i).StartsWith(Words[id], StringComparison.Ordinal) && (best < 0 || Words[id].Length > Words[best].Length))
                {
                    best = id;
                }
            }

            if (best < 0)
            {
                throw new ArgumentException($"Cannot encode '{text[i]}'.");
            }

            ids.Add(best);
            i += Words[best].Length;
        }

        return ids;
    }

    public bool IsSpecial(int id) => id >= Eos;

    public byte[] GetTokenBytes(int id) => System.Text.Encoding.UTF8.GetBytes(Words[id]);

    public IStreamingDetokenizer CreateStreamingDetokenizer() => new Detokenizer();

    private sealed class Detokenizer : IStreamingDetokenizer
    {
        public string Append(int id) => Words[id];

        public string Flush() => string.Empty;
    }
}
