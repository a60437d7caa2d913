using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests.Runtime;

/// <summary>The trie walk with its cache and deferrals (and the logits mask made from it) must equal simulating every token's bytes one by one.</summary>
public sealed class MaskConsistencyTests
{
    public static TheoryData<string> Grammars => ["object", .. SchemaCorpus.Names.Take(12)];

    [Theory]
    [MemberData(nameof(Grammars))]
    public void MaskEqualsBruteForceOnRandomStates(string name)
    {
        TokenVocabulary vocab = TestVocabularies.Random(name.Length * 31, randomTokens: 300);
        Grammar grammar = name == "object" ? JsonGrammar.AnyObject() : JsonGrammar.FromSchema(SchemaCorpus.Get(name), new JsonSchemaOptions { RequireObjectRoot = false });
        TokenConstraint constraint = TokenConstraint.Create(grammar, vocab);
        var mask = new ulong[vocab.MaskWords];
        var logits = new float[vocab.Count];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
        for (int walk = 0; walk < 6; walk++)
        {
            ConstraintState state = constraint.CreateState();
            int steps = rng.Next(1, 40);
            for (int step = 0; step < steps && !state.IsFinished; step++)
            {
                state.FillMask(mask);
                Array.Fill(logits, 1f);
                state.ApplyMask(logits);
                var allowed = new List<int>();
                for (int id = 0; id < vocab.Count; id++)
                {
                    bool inMask = (mask[id >> 6] & (1UL << (id & 63))) != 0;
                    Assert.Equal(state.IsAllowed(id), inMask);
                    Assert.Equal(inMask ? 1f : float.NegativeInfinity, logits[id]);
                    if (inMask)
                    {
                        allowed.Add(id);
                    }
                }

                Assert.NotEmpty(allowed);
                state.Advance(allowed[rng.Next(allowed.Count)]);
            }
        }
    }

    [Fact]
    public async Task StatesOnOneSharedConstraintMayRunOnSeveralThreads()
    {
        TokenVocabulary vocab = TestVocabularies.Random(5, randomTokens: 200);
        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.FromSchema(SchemaCorpus.Get("events")), vocab);
        Task[] tasks = [.. Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var mask = new ulong[vocab.MaskWords];
            var rng = new Random(t);
            for (int walk = 0; walk < 5; walk++)
            {
                ConstraintState state = constraint.CreateState();
                for (int step = 0; step < 30 && !state.IsFinished; step++)
                {
                    state.FillMask(mask);
                    var allowed = Enumerable.Range(0, vocab.Count).Where(id => (mask[id >> 6] & (1UL << (id & 63))) != 0).ToList();
                    Assert.All(allowed, id => Assert.True(state.IsAllowed(id)));
                    state.Advance(allowed[rng.Next(allowed.Count)]);
                }
            }
        }))];
        await Task.WhenAll(tasks);
    }

    [Fact]
    public void CachedMasksAreReusedAcrossStates()
    {
        TokenVocabulary vocab = TestVocabularies.Random(11);
        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab);
        var mask = new ulong[vocab.MaskWords];
        ConstraintState a = constraint.CreateState();
        foreach (byte b in "{\"k\":\"abc"u8)
        {
            a.Advance(b);
        }

        a.FillMask(mask);
        int cached = constraint.CachedMasks;
        a.Advance('d');
        a.FillMask(mask);
        Assert.Equal(cached, constraint.CachedMasks);
        ulong[] copy = [.. mask];
        ConstraintState b2 = constraint.CreateState();
        foreach (byte b in "{\"other\": [\"xyz"u8)
        {
            b2.Advance(b);
        }

        b2.FillMask(mask);
        // Same innermost frame (inside a plain string), different stacks: the closing-quote continuations differ.
        Assert.NotEqual(copy, mask);
        Assert.True(b2.IsAllowed(Array.FindIndex(Enumerable.Range(0, vocab.Count).ToArray(), id => vocab.GetBytes(id).SequenceEqual("\"]"u8))));
        Assert.False(a.IsAllowed(Array.FindIndex(Enumerable.Range(0, vocab.Count).ToArray(), id => vocab.GetBytes(id).SequenceEqual("\"]"u8))));
    }
}
