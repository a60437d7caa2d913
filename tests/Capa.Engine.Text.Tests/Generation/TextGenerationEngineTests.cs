using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class TextGenerationEngineTests
{
    private const int Width = 40; // wider than the tokenizer's 34 ids, as real models are
    private static readonly int[] Prompt = [0, 1, 2];

    /// <summary>Steers the model to emit <paramref name="script"/> after the prompt, then end of sequence.</summary>
    private static SyntheticDecoder Scripted(params int[] script) => new(Width, 64, (history, logits) =>
    {
        var generated = history.Count - Prompt.Length;
        logits[generated < script.Length ? script[generated] : WordTokenizer.Eos] += 50;
    });

    private static TextGenerationEngine Engine(IDecoderModel model, GenerationSchedulerOptions? scheduler = null) =>
        new(model, new WordTokenizer(), [WordTokenizer.Eos], scheduler);

    private static async Task<GenerationResult> Run(TextGenerationEngine engine, GenerationRequest request)
    {
        using var stream = await engine.StartAsync(request);
        return await stream.CollectAsync();
    }

    [Fact]
    public async Task EndOfSequence_FinishesWithStop_AndIsCountedButNotShown()
    {
        using var engine = Engine(Scripted(8, 9, 10, 11, 12));
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 0 } });
        var choice = Assert.Single(result.Choices);
        Assert.Equal("Hello world!", choice.Text);
        Assert.Equal(FinishReason.Stop, choice.FinishReason);
        Assert.Equal(6, choice.CompletionTokens);
        Assert.Equal(6, result.CompletionTokens);
        Assert.Equal(3, result.PromptTokens);
    }

    [Fact]
    public async Task MaxTokens_FinishesWithLength()
    {
        using var engine = Engine(Scripted(8, 9, 10, 11, 12));
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, MaxTokens = 2, Sampling = new() { Temperature = 0 } });
        Assert.Equal("Hello", result.Choices[0].Text);
        Assert.Equal(FinishReason.Length, result.Choices[0].FinishReason);
        Assert.Equal(2, result.CompletionTokens);
    }

    [Fact]
    public async Task ContextEnd_FinishesWithLength()
    {
        var model = new SyntheticDecoder(Width, 6, (h, l) => l[16] += 50);
        using var engine = Engine(model);
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 0 } });
        Assert.Equal("xxx", result.Choices[0].Text);
        Assert.Equal(FinishReason.Length, result.Choices[0].FinishReason);
    }

    [Fact]
    public async Task StopSequence_AcrossTokens_IsNotEmitted_AndNothingAfterIt()
    {
        // "Hel" "lo" "ST" "OP" " wor": stop "STOP" spans two tokens.
        using var engine = Engine(Scripted(8, 9, 13, 14, 10, 11));
        var request = new GenerationRequest { PromptTokens = Prompt, Stop = ["STOP"], Sampling = new() { Temperature = 0 } };
        using var stream = await engine.StartAsync(request);
        var updates = new List<GenerationUpdate>();
        await foreach (var u in stream.ReadAllAsync())
        {
            updates.Add(u);
        }

        Assert.Equal("Hello", string.Concat(updates.Select(u => u.Text)));
        Assert.DoesNotContain(updates, u => u.Text.Contains('S', StringComparison.Ordinal));
        Assert.Equal(FinishReason.Stop, updates[^1].FinishReason);
        Assert.Equal(4, updates[^1].CompletionTokens);
        Assert.Equal(4, stream.CompletionTokens);
    }

    [Fact]
    public async Task StopPrefix_ThatDoesNotComplete_IsEmittedLater()
    {
        using var engine = Engine(Scripted(13, 0, 14));
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, Stop = ["STOP"], Sampling = new() { Temperature = 0 } });
        Assert.Equal("STaOP", result.Choices[0].Text);
    }

    [Fact]
    public async Task SpecialTokens_AreNotText()
    {
        using var engine = Engine(Scripted(8, WordTokenizer.Control, 9));
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 0 } });
        Assert.Equal("Hello", result.Choices[0].Text);
        Assert.Equal(4, result.CompletionTokens);
    }

    [Fact]
    public async Task LogitBias_CanBanTheScriptedToken()
    {
        using var engine = Engine(Scripted(8, 9));
        var result = await Run(engine, new GenerationRequest
        {
            PromptTokens = Prompt,
            MaxTokens = 1,
            Sampling = new() { Temperature = 0, LogitBias = new Dictionary<int, float> { [8] = -100 } },
        });
        Assert.NotEqual("Hel", result.Choices[0].Text);
    }

    [Fact]
    public async Task IdsTheTokenizerLacks_AreNeverSampled()
    {
        var model = new SyntheticDecoder(Width, 64, (h, l) => l[Width - 1] += 100);
        using var engine = Engine(model);
        var result = await Run(engine, new GenerationRequest { PromptTokens = Prompt, MaxTokens = 20, Sampling = new() { Temperature = 1 }, Seed = 1 });
        Assert.Equal(FinishReason.Length, result.Choices[0].FinishReason);
    }

    private static GenerationRequest Sampled(long? seed, int n = 1) => new()
    {
        PromptTokens = Prompt,
        MaxTokens = 24,
        N = n,
        Seed = seed,
        Sampling = new() { Temperature = 1, Logprobs = true, TopLogprobs = 3 },
    };

    private static string Describe(GenerationResult r) =>
        string.Join("|", r.Choices.Select(c => $"{c.Text}/{c.FinishReason}/{c.CompletionTokens}/{string.Join(",", c.Logprobs!.Select(l => $"{l.TokenId}:{l.Logprob:R}"))}"));

    [Fact]
    public async Task SameSeed_SameChoices_DifferentSeed_DifferentChoices()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 64));
        var a = await Run(engine, Sampled(7));
        var b = await Run(engine, Sampled(7));
        var c = await Run(engine, Sampled(8));
        Assert.Equal(7, a.Seed);
        Assert.Equal(Describe(a), Describe(b));
        Assert.NotEqual(Describe(a), Describe(c));
    }

    [Fact]
    public async Task NoSeed_DrawsAFreshOne_ThatReplays()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 64));
        var a = await Run(engine, Sampled(null));
        var b = await Run(engine, Sampled(null));
        Assert.NotEqual(a.Seed, b.Seed);
        Assert.True(a.Seed >= 0);
        Assert.NotEqual(Describe(a), Describe(b));
        Assert.Equal(Describe(a), Describe(await Run(engine, Sampled(a.Seed))));
    }

    [Fact]
    public async Task NChoices_AreIndependentStreams_AndChoiceZeroMatchesN1()
    {
        var model = new SyntheticDecoder(Width, 64);
        using var engine = Engine(model);
        var three = await Run(engine, Sampled(99, 3));
        var one = await Run(engine, Sampled(99, 1));
        Assert.Equal(3, three.Choices.Count);
        Assert.Equal(3, three.Choices.Select(c => c.Text).Distinct().Count());
        Assert.Equal(Describe(one), Describe(three with { Choices = [three.Choices[0]] }));
        Assert.Equal(three.Choices.Sum(c => c.CompletionTokens), three.CompletionTokens);
        Assert.Equal(0, model.LiveSequences);
    }

    [Fact]
    public async Task Logprobs_AreReturnedPerToken()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 64));
        var r = await Run(engine, Sampled(5));
        var choice = r.Choices[0];
        var eos = choice.FinishReason == FinishReason.Stop ? 1 : 0;
        Assert.Equal(choice.CompletionTokens - eos, choice.Logprobs!.Count);
        Assert.All(choice.Logprobs, lp => Assert.True(lp.TopAlternatives.Count == 3 && lp.TopAlternatives.Sum(a => Math.Exp(a.Logprob)) <= 1 + 1e-6));
    }

    [Fact]
    public async Task Logits_AreBitwiseIdentical_AloneAndAmidSevenOthers()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 64));
        var alone = new List<(int, int, uint)>();
        var amid = new List<(int, int, uint)>();
        List<(int, int, uint)>? sink = alone;
        var lockObj = new Lock();
        var traced = new HashSet<GenerationRequest>(ReferenceEqualityComparer.Instance) { Sampled(42, 2), Sampled(42, 2) };
        engine.Observer = (request, choice, position, logits) =>
        {
            var h = Hash(logits);
            lock (lockObj)
            {
                if (position >= 0 && Volatile.Read(ref sink) is { } s && traced.Contains(request))
                {
                    s.Add((choice, position, h));
                }
            }
        };

        var first = Describe(await Run(engine, traced.First()));
        sink = amid;
        var others = Enumerable.Range(0, 7).Select(i => Task.Run(async () =>
            await Run(engine, Sampled(1000 + i, 2) with { PromptTokens = [4, 5, (6 + i) % 30] }))).ToList();
        var target = Task.Run(async () => Describe(await Run(engine, traced.Last())));
        await Task.WhenAll(others);
        Assert.Equal(first, await target);
        Assert.Equal(alone.Order(), amid.Order());
    }

    private static uint Hash(ReadOnlySpan<float> logits)
    {
        var h = 2166136261u;
        foreach (var f in logits)
        {
            h = (h ^ BitConverter.SingleToUInt32Bits(f)) * 16777619u;
        }

        return h;
    }

    [Fact]
    public async Task ContextOverflow_IsOpenAIsMessage()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 8));
        var ex = await Assert.ThrowsAsync<ContextLengthExceededException>(() =>
            engine.StartAsync(new GenerationRequest { PromptTokens = [.. Enumerable.Repeat(1, 9)] }));
        Assert.Equal("This model's maximum context length is 8 tokens. However, your messages resulted in 9 tokens. Please reduce the length of the messages.", ex.Message);
        Assert.Equal("messages", ex.Param);
        Assert.Equal("context_length_exceeded", ex.Code);
    }

    [Theory]
    [InlineData(0, null, "n")]
    [InlineData(1, 0, "max_tokens")]
    public async Task BadParameters_AreRequestErrors(int n, int? maxTokens, string param)
    {
        using var engine = Engine(new SyntheticDecoder(Width, 8));
        var ex = await Assert.ThrowsAsync<GenerationRequestException>(() =>
            engine.StartAsync(new GenerationRequest { PromptTokens = Prompt, N = n, MaxTokens = maxTokens }));
        Assert.Equal(param, ex.Param);
    }

    [Fact]
    public async Task OutOfRangeSampling_NamesTheParameter()
    {
        using var engine = Engine(new SyntheticDecoder(Width, 8));
        var ex = await Assert.ThrowsAsync<GenerationRequestException>(() =>
            engine.StartAsync(new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 3 } }));
        Assert.Equal("temperature", ex.Param);
    }

    [Fact]
    public async Task Cancellation_FreesTheSequenceAndTheSlot()
    {
        using var gate = new SemaphoreSlim(0);
        using var resume = new SemaphoreSlim(0);
        var model = new SyntheticDecoder(Width, 4096, (h, l) =>
        {
            l[16] += 50;
            if (h.Count == 10)
            {
                // Hold the sequence here until the test has cancelled, so it cannot finish first on a busy machine.
                gate.Release();
                resume.Wait(TimeSpan.FromSeconds(30));
            }
        });
        using var engine = Engine(model, new GenerationSchedulerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 0 });
        using var cts = new CancellationTokenSource();
        var stream = await engine.StartAsync(new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 0 } }, cts.Token);
        Assert.True(await gate.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, engine.Scheduler.Running);
        await Assert.ThrowsAsync<GenerationQueueFullException>(() => engine.StartAsync(new GenerationRequest { PromptTokens = Prompt }));
        await cts.CancelAsync();
        resume.Release();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.CollectAsync());
        await stream.Completion;
        Assert.Equal(0, engine.Scheduler.Running);
        Assert.Equal(0, engine.Scheduler.Admitted);
        Assert.Equal(0, model.LiveSequences);
        var next = await Run(engine, new GenerationRequest { PromptTokens = Prompt, MaxTokens = 2, Sampling = new() { Temperature = 0 } });
        Assert.Equal("xx", next.Choices[0].Text);
    }

    [Fact]
    public async Task DisposingTheStream_Cancels()
    {
        var model = new SyntheticDecoder(Width, 100_000, (h, l) => l[16] += 50);
        using var engine = Engine(model);
        var stream = await engine.StartAsync(new GenerationRequest { PromptTokens = Prompt, Sampling = new() { Temperature = 0 } });
        await foreach (var u in stream.ReadAllAsync())
        {
            break;
        }

        stream.Dispose();
        await stream.Completion;
        Assert.Equal(0, model.LiveSequences);
        Assert.Equal(0, engine.Scheduler.Admitted);
    }

    [Fact]
    public async Task ThirtyTwoConcurrentStreams_AllComplete_WithBoundedLiveCaches()
    {
        var model = new SyntheticDecoder(Width, 4096);
        using var engine = Engine(model, new GenerationSchedulerOptions { MaxConcurrentRequests = 4, MaxQueuedRequests = 64 });
        var runs = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            using var stream = await engine.StartAsync(Sampled(i, 2));
            var text = new System.Text.StringBuilder();
            await foreach (var u in stream.ReadAllAsync())
            {
                text.Append(u.Text);
            }

            return stream.CompletionTokens;
        })).ToList();
        var counts = await Task.WhenAll(runs);
        Assert.All(counts, c => Assert.InRange(c, 2, 48));
        Assert.InRange(model.MaxLiveSequences, 2, 8); // 4 running requests × 2 choices
        Assert.Equal(0, model.LiveSequences);
        Assert.Equal(0, engine.Scheduler.Admitted);
    }
}
