using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// Fair scheduling, counted in forwards of an instrumented decoder (never in time): prompt chunks take turns with decode
/// steps, new streams start within a bound of chunks, and admission keeps the key/value caches within their byte budget.
/// </summary>
public sealed class GenerationLoopTests
{
    private const int Width = 40;

    // Always token 16 ("x"), never the end: streams run to max_tokens.
    private static void Forced(IReadOnlyList<int> history, float[] logits) => logits[16] += 50;

    private static TextGenerationEngine Engine(SyntheticDecoder model, GenerationSchedulerOptions? scheduler = null) =>
        new(model, new WordTokenizer(), [WordTokenizer.Eos], scheduler);

    private static GenerationRequest Greedy(int promptTokens, int maxTokens, int salt = 0) => new()
    {
        PromptTokens = [.. Enumerable.Range(0, promptTokens).Select(i => (i + salt) % 30)],
        MaxTokens = maxTokens,
        Sampling = new() { Temperature = 0 },
    };

    private static async Task<int> Drain(GenerationStream stream)
    {
        await foreach (var update in stream.ReadAllAsync())
        {
        }

        return stream.CompletionTokens;
    }

    [Fact]
    public async Task LongPromptArrivingWhileFourStreamsDecode_DelaysEachOfTheirTokensByAtMostOneChunk()
    {
        // The first decode step waits until all four streams are admitted (however slowly this thread runs), and the
        // first stream to reach its 10th token holds the loop until the long prompt has arrived: all four decode then.
        using var admitted = new ManualResetEventSlim(false);
        using var reached = new SemaphoreSlim(0);
        using var hold = new ManualResetEventSlim(false);
        var held = 0;
        var model = new SyntheticDecoder(Width, 4096, (history, logits) =>
        {
            if (history.Count == 4)
            {
                admitted.Wait(TimeSpan.FromSeconds(30));
            }

            if (history.Count == 13 && Interlocked.Exchange(ref held, 1) == 0)
            {
                reached.Release();
                hold.Wait(TimeSpan.FromSeconds(30));
            }

            Forced(history, logits);
        })
        { PrefillChunkTokens = 256 };
        using var engine = Engine(model);
        var streams = new List<GenerationStream>();
        for (var i = 0; i < 4; i++)
        {
            streams.Add(await engine.StartAsync(Greedy(3, 300, i)));
        }

        admitted.Set();

        Assert.True(await reached.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(4, engine.DecodingRequests);
        var longStart = engine.StartAsync(Greedy(2000, 4));
        hold.Set();
        using var longRequest = await longStart;
        Assert.Equal(4, await Drain(longRequest));
        foreach (var stream in streams)
        {
            await Drain(stream);
            stream.Dispose();
        }

        var calls = model.Calls;
        var longSequence = calls.Single(c => c.Tokens == 256 && c.LengthBefore == 0).Sequence;
        var chunks = calls.Where(c => c.Sequence == longSequence && c.Tokens > 1).Select(c => c.Tokens).ToList();
        Assert.Equal([256, 256, 256, 256, 256, 256, 256, 208], chunks);

        var firstChunk = calls.ToList().FindIndex(c => c.Sequence == longSequence);
        var lastChunk = calls.ToList().FindLastIndex(c => c.Sequence == longSequence && c.Tokens > 1);
        foreach (var sequence in calls.Where(c => c.Sequence != longSequence).Select(c => c.Sequence).Distinct())
        {
            // Between two consecutive decode steps of a running stream, at most one prompt chunk of anyone.
            var chunksSinceLastStep = 0;
            var steps = 0;
            var stepsDuringPrefill = 0;
            for (var i = 0; i < calls.Count; i++)
            {
                var call = calls[i];
                if (call.Tokens > 1)
                {
                    chunksSinceLastStep++;
                }
                else if (call.Sequence == sequence)
                {
                    Assert.True(chunksSinceLastStep <= 1 || steps == 0, $"sequence {sequence} waited {chunksSinceLastStep} chunks for its token {steps + 1}");
                    chunksSinceLastStep = 0;
                    steps++;
                    stepsDuringPrefill += i > firstChunk && i < lastChunk ? 1 : 0;
                }
            }

            // The streams really ran beside the prefill: one token per chunk gap.
            Assert.Equal(7, stepsDuringPrefill);
        }
    }

    [Fact]
    public async Task EightConcurrentRequests_EachStartsWithinThePromptChunksAdmittedBeforeIt()
    {
        using var hold = new ManualResetEventSlim(false);
        var model = new SyntheticDecoder(Width, 4096, (history, logits) =>
        {
            hold.Wait(TimeSpan.FromSeconds(30));
            Forced(history, logits);
        })
        { PrefillChunkTokens = 8 };
        using var engine = Engine(model);

        // All eight are admitted while the loop is held in the first forward, so they are served from one starting line.
        var streams = new List<GenerationStream>();
        for (var i = 0; i < 8; i++)
        {
            streams.Add(await engine.StartAsync(Greedy(20, 100, i)));
        }

        hold.Set();
        foreach (var stream in streams)
        {
            Assert.Equal(100, await Drain(stream));
            stream.Dispose();
        }

        // 20-token prompts in chunks of 8: three chunks each. Request k's first token comes after the 3·(k+1) chunks of
        // the prompts up to its own, one chunk per round: by then no stream has produced more than 3·k + 1 tokens, so
        // every stream starts before any other has produced 3 × 8 = 24 (first come first served to completion would
        // make the fifth wait for whole 100-token answers).
        var calls = model.Calls;
        var produced = new Dictionary<int, int>();
        var order = calls.Select(c => c.Sequence).Distinct().ToList();
        Assert.Equal(8, order.Count);
        foreach (var call in calls)
        {
            if (call.Tokens > 1)
            {
                continue;
            }

            var k = order.IndexOf(call.Sequence);
            if (!produced.ContainsKey(call.Sequence))
            {
                var chunksBefore = calls.TakeWhile(c => c != call).Count(c => c.Tokens > 1);
                Assert.Equal(3 * (k + 1), chunksBefore);
                Assert.All(produced.Values, p => Assert.True(p <= (3 * k) + 1, $"stream {k} started after another produced {p} tokens"));
            }

            produced[call.Sequence] = produced.GetValueOrDefault(call.Sequence) + 1;
        }
    }

    [Fact]
    public async Task SixtyFourConcurrentStreams_StayWithinTheKvBudget_AndTheOverflowIsRefused()
    {
        const long bytesPerToken = 1000;
        const long perRequest = (10 + 20) * bytesPerToken; // prompt + max_tokens positions
        using var hold = new ManualResetEventSlim(false);
        var model = new SyntheticDecoder(Width, 4096, (history, logits) =>
        {
            hold.Wait(TimeSpan.FromSeconds(30));
            Forced(history, logits);
        })
        { PrefillChunkTokens = 16, KvBytesPerToken = bytesPerToken };
        var options = new GenerationSchedulerOptions { KvCacheBudgetBytes = 16 * perRequest, MaxQueuedRequests = 32, RetryAfter = TimeSpan.FromSeconds(5) };
        using var engine = Engine(model, options);
        Assert.Equal(perRequest, engine.KvBytesFor(Greedy(10, 20)));

        var starts = Enumerable.Range(0, 64).Select(i => engine.StartAsync(Greedy(10, 20, i))).ToList();
        var refused = starts.Where(t => t.IsFaulted).ToList();
        Assert.Equal(16, refused.Count);
        foreach (var task in refused)
        {
            var ex = await Assert.ThrowsAsync<GenerationQueueFullException>(() => task);
            Assert.Equal(TimeSpan.FromSeconds(5), ex.RetryAfter);
        }

        Assert.Equal(16, engine.Scheduler.Running);
        Assert.Equal(32, engine.Scheduler.Queued);
        Assert.Equal(16 * perRequest, engine.Scheduler.ReservedKvBytes);

        hold.Set();
        var counts = await Task.WhenAll(starts.Where(t => !t.IsFaulted).Select(async t =>
        {
            using var stream = await t;
            return await Drain(stream);
        }));
        Assert.Equal(48, counts.Length);
        Assert.All(counts, c => Assert.Equal(20, c));

        // Caches never held more than the budget, and the budget was used: sixteen streams ran side by side.
        Assert.InRange(model.MaxLiveTokens * bytesPerToken, 8 * perRequest, options.KvCacheBudgetBytes);
        Assert.Equal(0, model.LiveSequences);
        Assert.Equal(0, engine.Scheduler.Admitted);
        Assert.Equal(0, engine.Scheduler.ReservedKvBytes);
    }

    [Fact]
    public async Task RequestLargerThanTheWholeBudget_RunsAlone()
    {
        // The big request's first decode step waits until the small one has asked, so it cannot finish before.
        using var asked = new ManualResetEventSlim(false);
        var model = new SyntheticDecoder(Width, 4096, (history, logits) =>
        {
            if (history.Count == 6)
            {
                asked.Wait(TimeSpan.FromSeconds(30));
            }

            Forced(history, logits);
        })
        { KvBytesPerToken = 100 };
        using var engine = Engine(model, new GenerationSchedulerOptions { KvCacheBudgetBytes = 1000 });
        using var big = await engine.StartAsync(Greedy(5, 20));
        var small = engine.StartAsync(Greedy(2, 2));
        Assert.False(small.IsCompleted);
        asked.Set();
        Assert.Equal(20, await Drain(big));
        using var admitted = await small;
        Assert.Equal(2, await Drain(admitted));
    }

    [Fact]
    public async Task DisposingTheEngine_EndsRunningRequests_AndRefusesNewOnes()
    {
        var model = new SyntheticDecoder(Width, 100_000, Forced);
        var engine = Engine(model);
        var stream = await engine.StartAsync(Greedy(3, 50_000));
        engine.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Drain(stream));
        Assert.Equal(0, model.LiveSequences);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.StartAsync(Greedy(3, 2)));
    }
}
