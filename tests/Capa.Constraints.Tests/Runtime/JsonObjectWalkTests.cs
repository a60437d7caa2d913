using System.Text;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests.Runtime;

public sealed class JsonObjectWalkTests
{
    [Fact]
    public void FiveHundredRandomWalksEachYieldExactlyOneObject()
    {
        var vocabularies = Enumerable.Range(0, 5).Select(i => TestVocabularies.Random(1000 + i)).ToArray();
        var constraints = vocabularies.Select(v => TokenConstraint.Create(JsonGrammar.AnyObject(), v)).ToArray();
        int uniformlyFinished = 0;
        for (int seed = 0; seed < 500; seed++)
        {
            TokenConstraint constraint = constraints[seed % constraints.Length];
            RandomWalker.Walk walk = RandomWalker.Run(constraint, seed, uniformSteps: 20 + (seed % 100));
            Assert.True(walk.Finished, $"seed {seed}: did not finish: {Encoding.UTF8.GetString(walk.Output)}");
            uniformlyFinished += walk.FinishedUniformly ? 1 : 0;
            AssertOneObject(walk.Output, seed);
        }

        // The uniform walk alone finishes sometimes; the rest is closed by the finisher.
        Assert.True(uniformlyFinished > 0);
    }

    internal static void AssertOneObject(byte[] output, int seed)
    {
        string text = Encoding.UTF8.GetString(output);
        var reader = new Utf8JsonReader(output, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            using JsonDocument doc = JsonDocument.ParseValue(ref reader);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        }
        catch (JsonException ex)
        {
            Assert.Fail($"seed {seed}: not JSON ({ex.Message}): {text}");
        }

        Assert.Equal(output.Length, (int)reader.BytesConsumed);
        Assert.Equal(text, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)));
        Assert.DoesNotContain('\uFFFD', text);
    }

    [Fact]
    public void WhitespaceRunsAreBoundedSoBlanksCannotLoop()
    {
        TokenVocabulary vocab = TestVocabularies.Random(7);
        var options = new JsonGrammarOptions { MaxWhitespaceRun = 3, MaxLeadingWhitespace = 1 };
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(options), vocab).CreateState();
        int space = ' ';
        Assert.True(state.TryAdvance(space));
        Assert.False(state.IsAllowed(space));
        state.Advance('{');
        for (int i = 0; i < 3; i++)
        {
            state.Advance(space);
        }

        Assert.False(state.IsAllowed(space));
        Assert.False(state.IsAllowed('\n'));
        Assert.True(state.IsAllowed('}'));
    }

    [Fact]
    public void EndOfSequenceOnlyWhenComplete()
    {
        TokenVocabulary vocab = TestVocabularies.Random(3);
        int eos = vocab.EndOfSequenceIds[0];
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        Assert.False(state.CanEnd);
        Assert.False(state.IsAllowed(eos));
        state.Advance('{');
        Assert.False(state.IsAllowed(eos));
        state.Advance('}');
        Assert.True(state.IsComplete);
        Assert.True(state.CanEnd);
        var mask = new ulong[vocab.MaskWords];
        state.FillMask(mask);
        Assert.Equal(1, mask.Sum(w => System.Numerics.BitOperations.PopCount(w)));
        Assert.False(state.IsAllowed(' '));
        state.Advance(eos);
        Assert.True(state.IsFinished);
        Assert.Throws<InvalidOperationException>(() => state.Advance(eos));
    }

    [Theory]
    [InlineData("{\"a\":1}", true)]
    [InlineData("{\"a\":[1,2.5e-3,-0,true,null,\"x\\u00e9\\n\"]}", true)]
    [InlineData("{\"a\":01}", false)]
    [InlineData("{\"a\":1.}", false)]
    [InlineData("{\"a\":tru}", false)]
    [InlineData("{\"a\" 1}", false)]
    [InlineData("{a:1}", false)]
    [InlineData("{\"a\":1,}", false)]
    [InlineData("[1]", false)]
    [InlineData("{\"\\ud800\":1}", false)]
    [InlineData("{\"\\x\":1}", false)]
    [InlineData("{\"a\tb\":1}", false)]
    [InlineData("{\"中文\":\"😀\"}", true)]
    public void AcceptsExactlyRfc8259Objects(string text, bool valid)
    {
        TokenVocabulary vocab = TestVocabularies.Random(5);
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        bool ok = true;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            ok = state.TryAdvance(b);
            if (!ok)
            {
                break;
            }
        }

        Assert.Equal(valid, ok && state.CanEnd);
    }

    [Fact]
    public void InvalidUtf8IsRejectedAndSplitCharactersAreAccepted()
    {
        TokenVocabulary vocab = TestVocabularies.Random(5);
        ConstraintState state = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab).CreateState();
        foreach (byte b in "{\"k\":\""u8)
        {
            state.Advance(b);
        }

        Assert.False(state.IsAllowed(0xC0));
        Assert.False(state.IsAllowed(0x80));
        Assert.False(state.IsAllowed(0xFF));
        state.Advance(0xE4); // 中 = E4 B8 AD
        Assert.False(state.IsAllowed('"'));
        Assert.False(state.IsAllowed(0xC0));
        state.Advance(0xB8);
        state.Advance(0xAD);
        Assert.True(state.IsAllowed('"'));
        ConstraintState surrogate = state.Clone();
        surrogate.Advance(0xED);
        Assert.False(surrogate.IsAllowed(0xA0)); // ED A0 .. would encode a surrogate
        Assert.True(surrogate.IsAllowed(0x9F));
    }
}
