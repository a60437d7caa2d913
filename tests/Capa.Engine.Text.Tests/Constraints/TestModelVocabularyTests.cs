using System.Text.Json;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;
using Capa.Engine.Text.Tests.Generation;
using Capa.Tokenizers;

namespace Capa.Engine.Text.Tests.Constraints;

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

    /// <summary>
    /// The sampled-token fast path on a real decoder and tokenizer: the same output, token for token and logprob for
    /// logprob, as a processor that must mask every step, while most steps build no mask at all.
    /// </summary>
    [Theory]
    [InlineData(0f, 0, false)]
    [InlineData(0.7f, 20, false)]
    [InlineData(0.7f, 20, true)]
    public async Task Engine_TokenChecks_ChangeNothingButTheMaskCount(float temperature, int topK, bool logprobs)
    {
        using var model = LocalChatModel.Load(models.Get(TestModelArch.Qwen2), new LocalChatModelOptions
        {
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
            DigestCachePath = Path.Combine(models.Root, "digests-fastpath.json"),
        });
        var constraint = ConstraintCompiler.For(model).JsonObject();
        var prompt = model.Tokenize("json please");
        var masks = 0;
        var tokens = 0;
        for (var seed = 0; seed < 6; seed++)
        {
            var fast = new List<ConstraintLogitsProcessor>();
            GenerationRequest Request(Func<int, ILogitsProcessor> factory) => new()
            {
                PromptTokens = prompt,
                MaxTokens = 64,
                Seed = seed,
                N = 2,
                Sampling = new() { Temperature = temperature, TopK = topK, TopP = topK > 0 ? 0.8f : 1f, Logprobs = logprobs, TopLogprobs = logprobs ? 3 : 0 },
                LogitsProcessorFactory = factory,
            };

            using var checkedStream = await model.StartAsync(Request(_ =>
            {
                var p = new ConstraintLogitsProcessor(constraint.CreateState());
                fast.Add(p);
                return p;
            }));
            var withChecks = await checkedStream.CollectAsync();
            using var maskedStream = await model.StartAsync(Request(_ => new MaskOnly(new ConstraintLogitsProcessor(constraint.CreateState()))));
            var maskOnly = await maskedStream.CollectAsync();

            Assert.Equal(maskOnly.Choices.Select(c => c.Text), withChecks.Choices.Select(c => c.Text));
            Assert.Equal(
                maskOnly.Choices.SelectMany(c => c.Logprobs ?? []).Select(l => (l.TokenId, l.Logprob, string.Join(",", l.TopAlternatives))),
                withChecks.Choices.SelectMany(c => c.Logprobs ?? []).Select(l => (l.TokenId, l.Logprob, string.Join(",", l.TopAlternatives))));
            masks += fast.Sum(p => p.MasksApplied);
            tokens += withChecks.Choices.Sum(c => c.CompletionTokens);
        }

        Assert.True(masks * 2 < tokens, $"{masks} masks for {tokens} tokens");
    }

    // Hides the single-token check, so the sampler masks at every step.
    private sealed class MaskOnly(ILogitsProcessor inner) : ILogitsProcessor
    {
        public bool CanEnd => inner.CanEnd;

        public void Process(Span<float> logits, IReadOnlyList<int> generated) => inner.Process(logits, generated);
    }
}
