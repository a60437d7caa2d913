using Capa.Constraints.Runtime;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Constraints;

/// <summary>
/// A lazy constraint for one choice: output is free until a token ends the <c>trigger</c> bytes (a tool call's opening
/// tag, say), then constrained by <c>body</c> (the rest of the call) until the body is complete; then free again to
/// look for the next trigger, or, when only one body is allowed, the output must end. A body cannot be cut short by an
/// end token, only by the token limit. Triggers are recognised only where a token ends exactly at the trigger's last
/// byte (true of tags a tokenizer holds as one token); a trigger followed by more bytes in the same token leaves the
/// output free. The state depends only on the tokens, so seeded sampling stays reproducible.
/// </summary>
public sealed class TriggeredConstraintProcessor : ILogitsProcessor
{
    private readonly byte[] _trigger;
    private readonly TokenConstraint _body;
    private readonly bool _repeat;
    private readonly byte[] _tail;
    private int _tailLength;
    private ConstraintState? _active;
    private bool _ended;
    private float[]? _wide;
    private int _consumed;

    /// <summary>Creates the processor for one sequence.</summary>
    /// <param name="trigger">The bytes that start a body (not empty).</param>
    /// <param name="body">The constraint of what follows the trigger.</param>
    /// <param name="repeat">Whether further triggers (and bodies) may follow a completed body; otherwise the output ends there.</param>
    public TriggeredConstraintProcessor(ReadOnlySpan<byte> trigger, TokenConstraint body, bool repeat)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (trigger.IsEmpty)
        {
            throw new ArgumentException("The trigger must not be empty.", nameof(trigger));
        }

        _trigger = trigger.ToArray();
        _tail = new byte[_trigger.Length];
        _body = body;
        _repeat = repeat;
    }

    /// <summary>Whether a body is being generated now.</summary>
    public bool IsConstraining => _active is not null;

    /// <summary>Bodies started so far.</summary>
    public int Triggered { get; private set; }

    /// <inheritdoc/>
    public bool CanEnd => _active is null || _active.CanEnd;

    /// <inheritdoc/>
    public bool SupportsTokenCheck => true;

    /// <inheritdoc/>
    public bool IsAllowed(int token, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        return _active is not null ? _active.IsAllowed(token)
            : !_ended || _body.Vocabulary.IsEndOfSequence(token);
    }

    /// <inheritdoc/>
    public void Process(Span<float> logits, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        if (_active is not null)
        {
            ConstraintLogitsProcessor.Mask(_active, logits, ref _wide);
        }
        else if (_ended)
        {
            var vocabulary = _body.Vocabulary;
            for (var id = 0; id < logits.Length; id++)
            {
                if (!vocabulary.IsEndOfSequence(id))
                {
                    logits[id] = float.NegativeInfinity;
                }
            }
        }
    }

    private void CatchUp(IReadOnlyList<int> generated)
    {
        ConstraintLogitsProcessor.CheckSequence(generated, _consumed);

        for (; _consumed < generated.Count; _consumed++)
        {
            var token = generated[_consumed];
            if (_active is not null)
            {
                ConstraintLogitsProcessor.Advance(_active, token);

                if (_active.IsComplete)
                {
                    _active = null;
                    _ended = !_repeat;
                    _tailLength = 0;
                }
            }
            else if (!_ended && (uint)token < (uint)_body.Vocabulary.Count && Append(_body.Vocabulary.GetBytes(token)))
            {
                _active = _body.CreateState();
                Triggered++;
                _tailLength = 0;
            }
        }
    }

    // Keeps the last trigger-length bytes of free output; true when they are the trigger, ending with this token.
    private bool Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return false;
        }

        if (bytes.Length >= _tail.Length)
        {
            bytes[^_tail.Length..].CopyTo(_tail);
            _tailLength = _tail.Length;
        }
        else
        {
            var keep = Math.Min(_tailLength, _tail.Length - bytes.Length);
            _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
            bytes.CopyTo(_tail.AsSpan(keep));
            _tailLength = keep + bytes.Length;
        }

        return _tailLength == _tail.Length && _tail.AsSpan().SequenceEqual(_trigger);
    }
}
