using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests.Vocabulary;

public sealed class TokenVocabularyTests
{
    private static TokenVocabulary Small() => TokenVocabulary.Create(
        [.. new[] { "{", "}", "{}", "\"", "a", " ", "", "" }.Select(s => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes(s))],
        [7]);

    [Fact]
    public void RejectsMissingOrOutOfRangeEndOfSequenceIds()
    {
        ReadOnlyMemory<byte>[] tokens = [new byte[] { 1 }];
        Assert.Throws<ArgumentException>(() => TokenVocabulary.Create(tokens, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenVocabulary.Create(tokens, [1]));
    }

    [Fact]
    public void SpecialTokensAreNeverAllowedAndEndOfSequenceOnlyAtTheEnd()
    {
        TokenVocabulary vocab = Small();
        Assert.Equal(8, vocab.Count);
        Assert.Equal(1, vocab.MaskWords);
        Assert.True(vocab.IsEndOfSequence(7));
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        Assert.False(state.IsAllowed(6));
        Assert.False(state.IsAllowed(7));
        Assert.False(state.IsAllowed(-1));
        Assert.False(state.IsAllowed(8));
        Span<ulong> mask = stackalloc ulong[1];
        state.FillMask(mask);
        Assert.Equal(0b0010_0101UL, mask[0]); // "{", "{}", " "
        state.Advance(2);
        state.FillMask(mask);
        Assert.Equal(1UL << 7, mask[0]);
    }

    [Fact]
    public void ApplyMaskSetsDisallowedLogitsToNegativeInfinity()
    {
        TokenVocabulary vocab = Small();
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        state.Advance(0);
        float[] logits = [1, 2, 3, 4, 5, 6, 7, 8];
        state.ApplyMask(logits);
        // After "{": "}" , "\"" and " " are allowed.
        Assert.Equal([float.NegativeInfinity, 2, float.NegativeInfinity, 4, float.NegativeInfinity, 6, float.NegativeInfinity, float.NegativeInfinity], logits);
        Assert.Throws<ArgumentException>(() => state.ApplyMask(new float[3]));
        Assert.Throws<ArgumentException>(() => state.FillMask(Span<ulong>.Empty));
    }

    [Fact]
    public void TryAdvanceBytes_MovesByRawText_AndStaysPutWhenItDoesNotFit()
    {
        TokenVocabulary vocab = Small();
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        Assert.False(state.TryAdvanceBytes("x"u8));
        Assert.False(state.TryAdvanceBytes(ReadOnlySpan<byte>.Empty));
        Assert.True(state.IsAllowed(0)); // still at the start: "{" is allowed
        Assert.True(state.TryAdvanceBytes("{ "u8));
        Assert.Equal(0, state.TokenCount);
        Assert.False(state.IsAllowed(0)); // inside the object a key or "}" comes next, not "{"
        Assert.True(state.IsAllowed(1));
        Assert.True(state.TryAdvanceBytes("}"u8));
        Assert.True(state.CanEnd);
    }
}
