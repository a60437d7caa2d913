using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Engine.Text.Constraints;

namespace Capa.Engine.Text.Tests.Constraints;

public sealed class ConstraintLogitsProcessorTests
{
    private static readonly SyntheticTokenizer Tokenizer = new();

    private static TokenConstraint JsonObject() =>
        TokenConstraint.Create(JsonGrammar.AnyObject(), ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));

    /// <summary>Samples like the engine: the processor masks, then a seeded draw from the softmax of what is left.</summary>
    internal static List<int> Walk(ConstraintLogitsProcessor processor, int width, int seed, int maxTokens, int eosId, float temperature = 1f)
    {
        var random = new Random(seed);
        var generated = new List<int>();
        var logits = new float[width];
        while (generated.Count < maxTokens)
        {
            for (var i = 0; i < width; i++)
            {
                logits[i] = (float)(random.NextDouble() * 8 - 4);
            }

            processor.Process(logits, generated);
            if (!processor.CanEnd)
            {
                logits[eosId] = float.NegativeInfinity;
            }

            if (float.IsNegativeInfinity(logits.Max()))
            {
                Assert.Fail($"the mask left no token after {generated.Count} tokens: [{string.Join(",", generated)}] canEnd={processor.CanEnd} complete={processor.State.IsComplete}");
            }

            var token = Sample(logits, random, temperature);
            generated.Add(token);
            if (token == eosId || processor.State.Constraint.Vocabulary.IsEndOfSequence(token))
            {
                break;
            }
        }

        return generated;
    }

    private static int Sample(float[] logits, Random random, float temperature)
    {
        var max = logits.Max();
        Assert.False(float.IsNegativeInfinity(max), "the mask left no token");
        var weights = logits.Select(l => float.IsNegativeInfinity(l) ? 0 : Math.Exp((l - max) / temperature)).ToArray();
        var r = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            r -= weights[i];
            if (r <= 0 && weights[i] > 0)
            {
                return i;
            }
        }

        return Array.FindLastIndex(weights, w => w > 0);
    }

    [Fact]
    public void RandomLogits_UnderJsonObject_AlwaysYieldOneObject()
    {
        var constraint = JsonObject();
        var ended = 0;
        for (var seed = 0; seed < 200; seed++)
        {
            var tokens = Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 400, Tokenizer.EosId);
            var text = Tokenizer.Decode(tokens);
            Assert.DoesNotContain(Tokenizer.SpecialId, tokens);
            if (tokens[^1] == Tokenizer.EosId)
            {
                ended++;
                using var doc = JsonDocument.Parse(text);
                Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            }
            else
            {
                // Cut by the token limit: still a prefix the grammar accepts.
                Assert.Equal(400, tokens.Count);
            }
        }

        Assert.True(ended > 0, "no walk reached the end of an object");
    }

    [Fact]
    public void IdsBeyondTheTokenizer_AreMasked()
    {
        var processor = new ConstraintLogitsProcessor(JsonObject().CreateState());
        var logits = new float[Tokenizer.VocabSize + 37];
        processor.Process(logits, []);
        Assert.All(logits[Tokenizer.VocabSize..], l => Assert.True(float.IsNegativeInfinity(l)));
        Assert.False(float.IsNegativeInfinity(logits['{']));
        Assert.True(float.IsNegativeInfinity(logits['a']));
        Assert.True(float.IsNegativeInfinity(logits[Tokenizer.EosId]));
        Assert.True(float.IsNegativeInfinity(logits[Tokenizer.SpecialId]));
    }

    [Fact]
    public void NarrowerLogits_AreMaskedToo()
    {
        var processor = new ConstraintLogitsProcessor(JsonObject().CreateState());
        var logits = new float[200];
        processor.Process(logits, []);
        Assert.False(float.IsNegativeInfinity(logits['{']));
        Assert.True(float.IsNegativeInfinity(logits['x']));
    }

    [Fact]
    public void AdvancesOnlyByTokensNotYetSeen_AndAllowsEndWhenComplete()
    {
        var processor = new ConstraintLogitsProcessor(JsonObject().CreateState());
        var generated = new List<int>();
        var logits = new float[Tokenizer.VocabSize];
        processor.Process(logits, generated);
        Assert.False(processor.CanEnd);
        generated.Add(256 + 10); // the "{}" piece
        Assert.Equal("{}", Tokenizer.Decode(generated));
        Array.Clear(logits);
        processor.Process(logits, generated);
        processor.Process(logits, generated); // the same tokens again: no double advance
        Assert.True(processor.CanEnd);
        Assert.Equal(1, processor.State.TokenCount);
        Assert.False(float.IsNegativeInfinity(logits[Tokenizer.EosId]));
        Assert.True(float.IsNegativeInfinity(logits['{']));
    }

    [Fact]
    public void ATokenOutsideTheMask_IsReportedNotIgnored()
    {
        var processor = new ConstraintLogitsProcessor(JsonObject().CreateState());
        var logits = new float[Tokenizer.VocabSize];
        Assert.Throws<InvalidOperationException>(() => processor.Process(logits, ['x']));
    }

    [Fact]
    public void SameSeed_SameOutput_AndMasksDependOnlyOnTokens()
    {
        var constraint = JsonObject();
        for (var seed = 0; seed < 20; seed++)
        {
            var a = Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 200, Tokenizer.EosId);
            var b = Walk(new ConstraintLogitsProcessor(JsonObject().CreateState()), Tokenizer.VocabSize, seed, 200, Tokenizer.EosId);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void SchemaConstraint_OutputValidatesItsShape()
    {
        using var schema = JsonDocument.Parse("""
            {"type":"object","properties":{"city":{"type":"string","maxLength":8},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},
             "required":["city","unit","days"],"additionalProperties":false}
            """);
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        var constraint = compiler.JsonSchema("weather", schema.RootElement, strict: true);
        Assert.Same(constraint, compiler.JsonSchema("weather", schema.RootElement, strict: true));
        var complete = 0;
        for (var seed = 0; seed < 100; seed++)
        {
            var tokens = Walk(new ConstraintLogitsProcessor(constraint.CreateState()), Tokenizer.VocabSize, seed, 300, Tokenizer.EosId);
            if (tokens[^1] != Tokenizer.EosId)
            {
                continue;
            }

            complete++;
            using var doc = JsonDocument.Parse(Tokenizer.Decode(tokens));
            var root = doc.RootElement;
            Assert.InRange(root.GetProperty("city").GetString()!.Length, 0, 8);
            Assert.Contains(root.GetProperty("unit").GetString(), new[] { "celsius", "fahrenheit" });
            Assert.InRange(root.GetProperty("days").GetInt32(), 1, 7);
            Assert.Equal(3, root.EnumerateObject().Count());
        }

        Assert.True(complete > 50, $"only {complete} walks completed");
    }

    /// <summary>The single-token check and the mask are two views of one rule: they agree on every token in every state a walk visits.</summary>
    [Fact]
    public void IsAllowed_AgreesWithTheMask_Everywhere()
    {
        using var schema = JsonDocument.Parse("""
            {"type":"object","properties":{"city":{"type":"string","maxLength":4},"unit":{"enum":["celsius","fahrenheit"]},"n":{"type":["integer","null"]}},
             "required":["city","unit","n"],"additionalProperties":false}
            """);
        var compiler = new ConstraintCompiler(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]));
        var width = Tokenizer.VocabSize + 3; // ids past the vocabulary are never allowed
        var states = 0;
        foreach (var constraint in new[] { compiler.JsonObject(), compiler.JsonSchema("w", schema.RootElement, strict: true) })
        {
            for (var seed = 0; seed < 25; seed++)
            {
                var processor = new ConstraintLogitsProcessor(constraint.CreateState());
                var random = new Random(seed);
                var generated = new List<int>();
                var mask = new float[width];
                while (generated.Count < 150)
                {
                    Array.Clear(mask);
                    processor.Process(mask, generated);
                    states++;
                    var allowed = new List<int>();
                    for (var id = 0; id < width; id++)
                    {
                        Assert.Equal(!float.IsNegativeInfinity(mask[id]), processor.IsAllowed(id, generated));
                        if (!float.IsNegativeInfinity(mask[id]))
                        {
                            allowed.Add(id);
                        }
                    }

                    var token = allowed[random.Next(allowed.Count)];
                    generated.Add(token);
                    if (token == Tokenizer.EosId)
                    {
                        break;
                    }
                }

                Assert.Equal(generated.Count, processor.MasksApplied);
                Assert.Equal(generated.Count * width, processor.TokensChecked);
            }
        }

        Assert.True(states > 1000, $"only {states} states visited");
    }
}
