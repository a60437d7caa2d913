using System.Numerics;
using Capa.Constraints.Grammars;

namespace Capa.Constraints.Runtime;

/// <summary>
/// Where one sequence stands in its grammar. Cheap to create and to <see cref="Clone"/>; not thread-safe.
/// Typical step: check the token the sampler would pick with <see cref="IsAllowed"/>, and build the mask
/// (<see cref="ApplyMask"/>) only where that check cannot settle the step (a sampler must only skip the mask
/// when its pick provably equals the pick from the masked logits); then <see cref="Advance"/>. Sampling from
/// masked logits means reported probabilities are the post-mask ones.
/// </summary>
public sealed class ConstraintState
{
    private readonly TokenConstraint _owner;
    private readonly MaskWalker _walker;
    private List<Frame> _configs;

    // The configurations' next list: an advance copies the walker's result into it and swaps, allocating nothing.
    private List<Frame> _nextConfigs = [];
    private ulong[]? _maskBuffer;

    internal ConstraintState(TokenConstraint owner)
    {
        _owner = owner;
        _walker = new MaskWalker(owner.Vocabulary);
        _configs = [];
        owner.Grammar.Root.EnterInitial(null, _configs);
        MaskWalker.Dedupe(_configs);
    }

    private ConstraintState(ConstraintState other)
    {
        _owner = other._owner;
        _walker = new MaskWalker(other._owner.Vocabulary);
        _configs = [.. other._configs];
        IsFinished = other.IsFinished;
        TokenCount = other.TokenCount;
    }

    /// <summary>The constraint this state follows.</summary>
    public TokenConstraint Constraint => _owner;

    /// <summary>Tokens advanced so far.</summary>
    public int TokenCount { get; private set; }

    /// <summary>An end-of-sequence token was accepted: nothing more is allowed.</summary>
    public bool IsFinished { get; private set; }

    /// <summary>The output so far is a complete value, so end-of-sequence is allowed.</summary>
    public bool CanEnd => !IsFinished && Exists(_configs, CanFinish);

    /// <summary>The value is finished: end-of-sequence is the only token allowed.</summary>
    public bool IsComplete => !IsFinished && _configs.Count > 0 && !Exists(_configs, static c => !IsTerminal(c));

    /// <summary>A rough distance to completion: stack depth plus what inner frames still need (for tests).</summary>
    internal int Depth => _configs.Count == 0 ? 0 : _configs.Min(c =>
    {
        int d = 0;
        for (Frame? f = c; f is not null and not EndFrame; f = f.Parent)
        {
            d += 1 + f.Node.RemainingHint(f);
        }

        return d;
    });

    // List.Exists without LINQ's enumerator: these are asked on every sampled token.
    private static bool Exists(List<Frame> configs, Func<Frame, bool> predicate)
    {
        foreach (Frame config in configs)
        {
            if (predicate(config))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTerminal(Frame frame)
    {
        Frame f = frame;
        while (f is not EndFrame)
        {
            if (!f.Node.IsExhausted(f))
            {
                return false;
            }

            if (f.Parent is not { } parent)
            {
                return true;
            }

            f = parent.Node.ChildDone(parent);
        }

        return true;
    }

    /// <summary>A copy that advances independently.</summary>
    public ConstraintState Clone() => new(this);

    private static bool CanFinish(Frame frame)
    {
        Frame f = frame;
        while (f is not EndFrame)
        {
            if (!f.Node.CanEndHere(f))
            {
                return false;
            }

            if (f.Parent is not { } parent)
            {
                return true;
            }

            f = parent.Node.ChildDone(parent);
        }

        return true;
    }

    /// <summary>Whether <paramref name="tokenId"/> may come next (the sampled-token fast path).</summary>
    public bool IsAllowed(int tokenId)
    {
        if (IsFinished || (uint)tokenId >= (uint)_owner.Vocabulary.Count)
        {
            return false;
        }

        if (_owner.Vocabulary.IsEndOfSequence(tokenId))
        {
            return CanEnd;
        }

        ReadOnlySpan<byte> bytes = _owner.Vocabulary.GetBytes(tokenId);
        return !bytes.IsEmpty && _walker.Simulate(_configs, bytes).Count > 0;
    }

    /// <summary>Advances by <paramref name="tokenId"/>, or returns false (and stays put) when it is not allowed.</summary>
    public bool TryAdvance(int tokenId)
    {
        if (IsFinished || (uint)tokenId >= (uint)_owner.Vocabulary.Count)
        {
            return false;
        }

        if (_owner.Vocabulary.IsEndOfSequence(tokenId))
        {
            if (!CanEnd)
            {
                return false;
            }

            IsFinished = true;
            _configs.Clear();
            TokenCount++;
            return true;
        }

        ReadOnlySpan<byte> bytes = _owner.Vocabulary.GetBytes(tokenId);
        if (bytes.IsEmpty)
        {
            return false;
        }

        if (!Step(bytes))
        {
            return false;
        }

        TokenCount++;
        return true;
    }

    /// <summary>
    /// Advances by raw bytes rather than a token: for text that entered the output before this state existed (the
    /// part of a token from where a lazily started constraint begins). Returns false (and stays put) when the bytes
    /// do not fit. <see cref="TokenCount"/> is unchanged.
    /// </summary>
    public bool TryAdvanceBytes(ReadOnlySpan<byte> bytes)
    {
        if (IsFinished || bytes.IsEmpty)
        {
            return false;
        }

        return Step(bytes);
    }

    // Moves to the configurations after the bytes, when any accepts them.
    private bool Step(ReadOnlySpan<byte> bytes)
    {
        List<Frame> next = _walker.Simulate(_configs, bytes);
        if (next.Count == 0)
        {
            return false;
        }

        _nextConfigs.Clear();
        _nextConfigs.AddRange(next);
        (_configs, _nextConfigs) = (_nextConfigs, _configs);
        return true;
    }

    /// <summary>Advances by <paramref name="tokenId"/>; throws when it is not allowed.</summary>
    public void Advance(int tokenId)
    {
        if (!TryAdvance(tokenId))
        {
            throw new InvalidOperationException($"Token {tokenId} is not allowed by the constraint ({_owner.Grammar.Description}) at this point.");
        }
    }

    /// <summary>
    /// Writes the allowed tokens as bits (bit <c>id % 64</c> of word <c>id / 64</c>) into
    /// <paramref name="allowed"/>, which must hold <see cref="Vocabulary.TokenVocabulary.MaskWords"/> words.
    /// An all-zero mask cannot happen while the vocabulary can spell every byte.
    /// </summary>
    public void FillMask(Span<ulong> allowed)
    {
        int words = _owner.Vocabulary.MaskWords;
        if (allowed.Length < words)
        {
            throw new ArgumentException($"The mask needs {words} words.", nameof(allowed));
        }

        allowed = allowed[..words];
        allowed.Clear();
        if (IsFinished)
        {
            return;
        }

        foreach (Frame config in _configs)
        {
            _walker.AddMask(_owner, config, allowed);
        }

        if (CanEnd)
        {
            foreach (int id in _owner.Vocabulary.EndOfSequenceIds)
            {
                allowed[id >> 6] |= 1UL << (id & 63);
            }
        }
    }

    /// <summary>Sets the logits of disallowed tokens to negative infinity.</summary>
    public void ApplyMask(Span<float> logits)
    {
        int count = _owner.Vocabulary.Count;
        if (logits.Length < count)
        {
            throw new ArgumentException($"The logits need {count} entries.", nameof(logits));
        }

        _maskBuffer ??= new ulong[_owner.Vocabulary.MaskWords];
        FillMask(_maskBuffer);
        for (int w = 0; w < _maskBuffer.Length; w++)
        {
            ulong word = _maskBuffer[w];
            if (word == ulong.MaxValue)
            {
                continue;
            }

            int start = w * 64;
            int end = Math.Min(start + 64, count);
            if (word == 0)
            {
                logits[start..end].Fill(float.NegativeInfinity);
                continue;
            }

            // Visit only the banned ids: the zero bits, lowest first.
            for (ulong banned = ~word; banned != 0; banned &= banned - 1)
            {
                int i = start + BitOperations.TrailingZeroCount(banned);
                if (i >= end)
                {
                    break;
                }

                logits[i] = float.NegativeInfinity;
            }
        }
    }
}
