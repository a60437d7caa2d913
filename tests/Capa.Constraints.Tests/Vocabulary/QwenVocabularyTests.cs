using System.Text;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Tests.Runtime;
using Capa.Constraints.Vocabulary;
using NJsonSchema;

namespace Capa.Constraints.Tests.Vocabulary;

/// <summary>The real 151,936-token Qwen3 vocabulary (skipped, saying so, where ../shared/reference is absent).</summary>
public sealed class QwenVocabularyTests
{
    private static TokenVocabulary? LoadOrSkip()
    {
        TokenVocabulary? vocab = TestVocabularies.Qwen3();
        if (vocab is null)
        {
            Console.WriteLine($"Qwen3 vocabulary tests skipped: {TestVocabularies.ReferenceFolder}/qwen3-tokenizer is absent.");
        }

        return vocab;
    }

    [Fact]
    public void JsonObjectWalksOverTheRealVocabulary()
    {
        TokenVocabulary? vocab = LoadOrSkip();
        if (vocab is null)
        {
            return;
        }

        Assert.Equal(151_936, vocab.Count);
        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab);
        for (int seed = 0; seed < 8; seed++)
        {
            RandomWalker.Walk walk = RandomWalker.Run(constraint, seed, uniformSteps: 30, finishSteps: 400);
            Assert.True(walk.Finished, Encoding.UTF8.GetString(walk.Output));
            JsonObjectWalkTests.AssertOneObject(walk.Output, seed);
        }
    }

    [Theory]
    [InlineData("nested")]
    [InlineData("expression")]
    [InlineData("patterns")]
    [InlineData("chinese")]
    public async Task SchemaWalksOverTheRealVocabulary(string name)
    {
        TokenVocabulary? vocab = LoadOrSkip();
        if (vocab is null)
        {
            return;
        }

        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.FromSchema(SchemaCorpus.Get(name)), vocab);
        JsonSchema schema = await JsonSchema.FromJsonAsync(Schema.SchemaWalkTests.ForNJsonSchema(SchemaCorpus.Text(name)));
        for (int seed = 0; seed < 2; seed++)
        {
            RandomWalker.Walk walk = RandomWalker.Run(constraint, seed, uniformSteps: 25, finishSteps: 600);
            string text = Encoding.UTF8.GetString(walk.Output);
            Assert.True(walk.Finished, text);
            Assert.Empty(schema.Validate(text));
        }
    }

    [Fact]
    public void MaskMatchesBruteForceOnTheRealVocabulary()
    {
        TokenVocabulary? vocab = LoadOrSkip();
        if (vocab is null)
        {
            return;
        }

        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.FromSchema(SchemaCorpus.Get("person")), vocab);
        ConstraintState state = constraint.CreateState();
        var mask = new ulong[vocab.MaskWords];
        foreach (string prefix in new[] { "", "{", "\"name\": \"Li", "Lei\", \"age\": 4", "2, \"email\": \"li" })
        {
            foreach (byte b in Encoding.UTF8.GetBytes(prefix))
            {
                state.Advance(b < 0x80 ? FindSingleByte(vocab, b) : throw new InvalidOperationException());
            }

            state.FillMask(mask);
            for (int id = 0; id < vocab.Count; id++)
            {
                Assert.Equal(state.IsAllowed(id), (mask[id >> 6] & (1UL << (id & 63))) != 0);
            }
        }
    }

    private static int FindSingleByte(TokenVocabulary vocab, byte b)
    {
        for (int id = 0; id < vocab.Count; id++)
        {
            ReadOnlySpan<byte> t = vocab.GetBytes(id);
            if (t.Length == 1 && t[0] == b)
            {
                return id;
            }
        }

        throw new InvalidOperationException($"No token for byte {b}.");
    }
}
