using System.Text.Json;
using Capa.Engine.Constraints;
using Capa.Engine.Generation;
using Capa.Engine.Models;
using Capa.Engine.Models.TestModels;
using Capa.Engine.Tests.Generation;
using Capa.Tokenizers;

namespace Capa.Engine.Tests.Constraints;

/// <summary>The bridge on the generated models' real tokenizers and decoders (random weights: adversarial output).</summary>
public sealed class TestModelVocabularyTests(TinyModels models) : IClassFixture<TinyModels>
{
    public static TheoryData<TestModelArch> Archs => [TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma];

    [Theory]
    [MemberData(nameof(Archs))]
    public void Vocabulary_SpellsTokensByTheirBytes_AndHidesSpecialTokens(TestModelArch arch)
    {
        var tokenizer = new HfGenerationTokenizer(HfTokenizer.FromFolder(models.Get(arch)));
        var eos = tokenizer.Tokenizer.EosToken!.Id!.Value;
        var vocabulary = ConstraintVocabularies.Get(tokenizer, [eos]);
        Assert.Same(vocabulary, ConstraintVocabularies.Get(tokenizer, [eos]));
        Assert.Equal(tokenizer.VocabSize, vocabulary.Count);
        Assert.True(vocabulary.IsEndOfSequence(eos));
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            if (tokenizer.IsSpecial(id))
            {
                Assert.True(vocabulary.GetBytes(id).IsEmpty);
            }
            else
            {
                Assert.Equal(tokenizer.GetTokenBytes(id), vocabulary.GetBytes(id).ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public async Task Engine_WithJsonObjectConstraint_AlwaysProducesOneObject(TestModelArch arch)
    {
        using var model = LocalChatModel.Load(models.Get(arch), new LocalChatModelOptions
        {
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
            DigestCachePath = Path.Combine(models.Root, $"digests-json-{arch}.json"),
        });
        var compiler = ConstraintCompiler.For(model);
        Assert.Same(compiler, ConstraintCompiler.For(model));
        var factory = ConstraintCompiler.ProcessorFactory(compiler.JsonObject());
        var prompt = model.Tokenize(model.RenderPrompt(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Reply in JSON." } },
        }));
        var constraint = compiler.JsonObject();
        for (var seed = 0; seed < 12; seed++)
        {
            var request = new GenerationRequest
            {
                PromptTokens = prompt,
                MaxTokens = 48,
                Seed = seed,
                N = 2,
                Sampling = new() { Temperature = 1f, Logprobs = true },
                LogitsProcessorFactory = factory,
            };
            using var stream = await model.StartAsync(request);
            var result = await stream.CollectAsync();
            foreach (var choice in result.Choices)
            {
                // Post-mask logprobs: every sampled token had a finite probability, and replaying the tokens
                // through a fresh state proves each one was allowed where it was sampled.
                var replay = constraint.CreateState();
                Assert.All(choice.Logprobs!, l =>
                {
                    Assert.True(float.IsFinite(l.Logprob));
                    Assert.True(replay.TryAdvance(l.TokenId));
                });
                if (choice.FinishReason == FinishReason.Stop)
                {
                    Assert.True(replay.CanEnd);
                    using var doc = JsonDocument.Parse(choice.Text);
                    Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
                }
                else
                {
                    Assert.Equal(48, choice.CompletionTokens);
                }
            }

            using var again = await model.StartAsync(request);
            Assert.Equal(result.Choices.Select(c => c.Text), (await again.CollectAsync()).Choices.Select(c => c.Text));
        }
    }

    [Theory]
    [MemberData(nameof(Archs))]
    public async Task Engine_WithABoundedSchema_AlwaysFinishesAndValidates(TestModelArch arch)
    {
        using var model = LocalChatModel.Load(models.Get(arch), new LocalChatModelOptions
        {
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
            DigestCachePath = Path.Combine(models.Root, $"digests-schema-{arch}.json"),
        });
        using var schema = JsonDocument.Parse("""
            {"type":"object","properties":{"ok":{"type":"boolean"},"level":{"enum":["low","mid","high"]},"n":{"type":"integer","minimum":0,"maximum":99},
             "tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":3}},"required":["ok","level","n","tags"],"additionalProperties":false}
            """);
        var factory = ConstraintCompiler.ProcessorFactory(ConstraintCompiler.For(model).JsonSchema("bounded", schema.RootElement, strict: true));
        var prompt = model.Tokenize("json please");
        for (var seed = 100; seed < 106; seed++)
        {
            using var stream = await model.StartAsync(new GenerationRequest
            {
                PromptTokens = prompt,
                MaxTokens = 200,
                Seed = seed,
                N = 2,
                Sampling = new() { Temperature = 1f },
                LogitsProcessorFactory = factory,
            });
            foreach (var choice in (await stream.CollectAsync()).Choices)
            {
                Assert.Equal(FinishReason.Stop, choice.FinishReason);
                using var doc = JsonDocument.Parse(choice.Text);
                var root = doc.RootElement;
                Assert.Equal(4, root.EnumerateObject().Count());
                Assert.True(root.GetProperty("ok").ValueKind is JsonValueKind.True or JsonValueKind.False);
                Assert.Contains(root.GetProperty("level").GetString(), new[] { "low", "mid", "high" });
                Assert.InRange(root.GetProperty("n").GetInt32(), 0, 99);
                Assert.InRange(root.GetProperty("tags").GetArrayLength(), 0, 3);
            }
        }
    }
}
