using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>A whole model folder through the engine: template, tokenizer, ONNX decoder, sampler, detokenizer.</summary>
public sealed class LocalChatModelTests(TinyModels models) : IClassFixture<TinyModels>
{
    private static Dictionary<string, object?> Chat(params (string Role, string Content)[] messages) => new()
    {
        ["messages"] = messages.Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
    };

    private LocalChatModel Load(TestModelArch arch, ModelVariant variant = ModelVariant.Fp32) =>
        LocalChatModel.Load(models.Get(arch), new LocalChatModelOptions
        {
            Variant = variant,
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
            DigestCachePath = Path.Combine(models.Root, $"digests-{arch}.json"),
        });

    [Fact]
    public void TheTemplatesDate_IsReadFromTheTemplateClock()
    {
        using var model = LocalChatModel.Load(models.Get(TestModelArch.Llama), new LocalChatModelOptions
        {
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
            DigestCachePath = Path.Combine(models.Root, "digests-clock.json"),
            TemplateClock = new FakeTimeProvider(new DateTimeOffset(2031, 3, 4, 5, 6, 7, TimeSpan.Zero)),
        });

        // Llama 3.2's template dates its system prompt with strftime_now.
        Assert.Contains("Today Date: 04 Mar 2031", model.RenderPrompt(Chat(("user", "Hi"))).Text, StringComparison.Ordinal);
    }

    public static TheoryData<TestModelArch> Archs => [TestModelArch.Qwen2, TestModelArch.Llama, TestModelArch.Phi3, TestModelArch.Gemma];

    [Theory]
    [MemberData(nameof(Archs))]
    public async Task SeedChatExample_IsAnswered_WithExactUsage_AndStableFingerprint(TestModelArch arch)
    {
        using var model = Load(arch);
        var prompt = model.RenderPrompt(Chat(("user", "火星上有生命吗？请简短回答。")));
        Assert.Contains("火星上有生命吗", prompt.Text, StringComparison.Ordinal);
        var tokens = model.Tokenize(prompt);
        using var stream = await model.StartAsync(new GenerationRequest { PromptTokens = tokens, MaxTokens = 16, Seed = 1, Sampling = new() { Temperature = 0.7f } });
        var result = await stream.CollectAsync();
        Assert.Equal(tokens.Count, result.PromptTokens);
        Assert.InRange(result.CompletionTokens, 1, 16);
        Assert.Equal(1, result.Seed);
        Assert.Matches("^fp_[0-9a-f]{10}$", model.SystemFingerprint);
        using var again = Load(arch);
        Assert.Equal(model.SystemFingerprint, again.SystemFingerprint);
        using var stream2 = await again.StartAsync(new GenerationRequest { PromptTokens = tokens, MaxTokens = 16, Seed = 1, Sampling = new() { Temperature = 0.7f } });
        Assert.Equal(result.Choices[0].Text, (await stream2.CollectAsync()).Choices[0].Text);
    }

    [Fact]
    public async Task StreamedText_EqualsTheDecodedTokens()
    {
        using var model = Load(TestModelArch.Qwen2);
        var tokens = model.Tokenize(model.RenderPrompt(Chat(("system", "You are a helpful assistant."), ("user", "Tell me a story about 🚀 and 中文."))));
        var generated = new List<int>();
        model.Engine.Observer = null;
        using var stream = await model.StartAsync(new GenerationRequest
        {
            PromptTokens = tokens,
            MaxTokens = 40,
            Seed = 3,
            Sampling = new() { Temperature = 1, Logprobs = true },
        });
        var text = new System.Text.StringBuilder();
        await foreach (var u in stream.ReadAllAsync())
        {
            text.Append(u.Text);
            generated.AddRange(u.Logprobs?.Select(l => l.TokenId) ?? []);
        }

        Assert.Equal(model.Tokenizer.Tokenizer.Decode(generated.ToArray(), skipSpecialTokens: true), text.ToString());
    }

    [Fact]
    public void TemplateError_IsARequestError_QuotingTheTemplate()
    {
        using var model = Load(TestModelArch.Gemma);
        var ex = Assert.Throws<GenerationRequestException>(() => model.RenderPrompt(Chat(("user", "a"), ("user", "b"))));
        Assert.Contains("Conversation roles must alternate user/assistant/user/assistant/...", ex.Message, StringComparison.Ordinal);
        Assert.Equal("messages", ex.Param);
    }

    [Fact]
    public async Task ContextOverflow_IsReportedWithTheModelsLength()
    {
        using var model = Load(TestModelArch.Qwen2);
        var tokens = model.Tokenize(model.RenderPrompt(Chat(("user", string.Join(' ', Enumerable.Repeat("word", model.MaxContextLength))))));
        var ex = await Assert.ThrowsAsync<ContextLengthExceededException>(() => model.StartAsync(new GenerationRequest { PromptTokens = tokens }));
        Assert.Equal($"This model's maximum context length is {model.MaxContextLength} tokens. However, your messages resulted in {tokens.Count} tokens. Please reduce the length of the messages.", ex.Message);
    }

    [Fact]
    public async Task Greedy_IsDeterministic_AndIgnoresTheSeed()
    {
        using var model = Load(TestModelArch.Llama, ModelVariant.Q4);
        var tokens = model.Tokenize(model.RenderPrompt(Chat(("user", "Hello!"))));
        async Task<string> Run(long seed)
        {
            using var s = await model.StartAsync(new GenerationRequest { PromptTokens = tokens, MaxTokens = 12, Seed = seed, Sampling = new() { Temperature = 0 } });
            return (await s.CollectAsync()).Choices[0].Text;
        }

        Assert.Equal(await Run(1), await Run(2));
    }

    [Fact]
    public void EndOfSequenceIds_ComeFromBothConfigs()
    {
        using var model = Load(TestModelArch.Qwen2);
        Assert.NotEmpty(model.Engine.EosTokenIds);
        Assert.All(model.Folder.Generation.EosTokenIds, id => Assert.Contains(id, model.Engine.EosTokenIds));
        Assert.All(model.Folder.Config.EosTokenIds, id => Assert.Contains(id, model.Engine.EosTokenIds));
    }
}
