using Capa.Constraints.Runtime;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Constraints;

/// <summary>
/// A lazy constraint decided by how the output begins: when its first visible byte (special tokens and whitespace
/// skipped) is <c>lead</c>, the output from that byte on is constrained by <c>body</c> to the end; any other
/// beginning leaves the output free. For formats whose tool calls are the whole output (Llama 3's bare JSON): an
/// output that opens an object is one or more valid calls. When the token that begins the body does not fit it (its
/// bytes after <c>lead</c> already break the grammar), the output stays free. The state depends only on the tokens, so
/// seeded sampling stays reproducible.
/// </summary>
public sealed class LeadingConstraintProcessor : ILogitsProcessor
{
    private readonly byte _lead;
    private readonly TokenConstraint _body;
    private ConstraintState? _active;
    private bool _decided;
    private float[]? _wide;
    private int _consumed;

    /// <summary>Creates the processor for one sequence.</summary>
    /// <param name="lead">The byte that, first in the output, starts the body (it is the body's first byte).</param>
    /// <param name="body">The constraint of the output from <paramref name="lead"/> on.</param>
    public LeadingConstraintProcessor(byte lead, TokenConstraint body)
    {
        ArgumentNullException.ThrowIfNull(body);
        _lead = lead;
        _body = body;
    }

    /// <summary>Whether the output is constrained (it began with the lead byte, and that token fitted the body).</summary>
    public bool IsConstraining => _active is not null;

    /// <inheritdoc/>
    public bool CanEnd => _active is null || _active.CanEnd;

    /// <inheritdoc/>
    public bool SupportsTokenCheck => true;

    /// <inheritdoc/>
    public bool IsAllowed(int token, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        return _active is null || _active.IsAllowed(token);
    }

    /// <inheritdoc/>
    public void Process(Span<float> logits, IReadOnlyList<int> generated)
    {
        CatchUp(generated);
        if (_active is not null)
        {
            ConstraintLogitsProcessor.Mask(_active, logits, ref _wide);
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
            }
            else if (!_decided && (uint)token < (uint)_body.Vocabulary.Count)
            {
                Decide(_body.Vocabulary.GetBytes(token));
            }
        }
    }

    // The first visible byte decides; a special token (no bytes) or whitespace leaves it open.
    private void Decide(ReadOnlySpan<byte> bytes)
    {
        var start = 0;
        while (start < bytes.Length && bytes[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        if (start == bytes.Length)
        {
            return;
        }

        _decided = true;
        if (bytes[start] == _lead)
        {
            var state = _body.CreateState();
            if (state.TryAdvanceBytes(bytes[start..]))
            {
                _active = state;
            }
        }
    }
}
