using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// Fair scheduling, counted in forwards of an instrumented decoder (never in time): prompt chunks take turns with decode
/// steps, new streams start within a bound of chunks, and admission keeps the key/value caches within their byte budget.
/// Batched rounds: every unfinished sequence of every decoding request takes one decode step per round, in steps of at
/// most the configured width, and a request that fails (alone or with its step) leaves the others as they are alone.
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LongPromptArrivingWhileFourStreamsDecode_DelaysEachOfTheirTokensByAtMostOneChunk(bool batches)
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
        { PrefillChunkTokens = 256, BatchesDecode = batches };
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

        // Each gap between two chunks is one round: the four streams' tokens, in one decode step when the model batches.
        var chunkAt = calls.Select((c, i) => (c, i)).Where(x => x.c.Sequence == longSequence && x.c.Tokens > 1).Select(x => x.i).ToList();
        for (var k = 1; k < chunkAt.Count; k++)
        {
            var gap = calls.Skip(chunkAt[k - 1] + 1).Take(chunkAt[k] - chunkAt[k - 1] - 1).ToList();
            Assert.Equal(4, gap.Count);
            Assert.Equal(4, gap.Select(c => c.Sequence).Distinct().Count());
            Assert.Equal(batches ? 1 : 4, gap.Select(c => c.Batch).Distinct().Count());
            Assert.DoesNotContain(-1, gap.Select(c => c.Batch));
        }
    }

    private sealed record Plan(int Prompt, int N, int MaxTokens);

    // Different prompt lengths (each prefilled in one chunk, told apart by their length), choices and max_tokens.
    private static readonly Plan[] Mixed = [new(3, 1, 5), new(7, 2, 9), new(4, 3, 14), new(12, 1, 7), new(9, 2, 11)];

    // Which request and choice each sequence is: a request's sequences are created together, the prompt's first, then its forks.
    private static Dictionary<int, (int Request, int Choice)> Owners(SyntheticDecoder model, IReadOnlyList<Plan> plans)
    {
        var calls = model.Calls;
        var owners = new Dictionary<int, (int, int)>();
        for (var r = 0; r < plans.Count; r++)
        {
            var first = calls.Single(c => c.LengthBefore == 0 && c.Tokens == plans[r].Prompt).Sequence;
            for (var c = 0; c < plans[r].N; c++)
            {
                owners.Add(first + c, (r, c));
            }
        }

        return owners;
    }

    // A model whose first forward waits until the test has started every request, so all are served from one starting
    // line: request r is prefilled in iteration r of the loop (one prompt per round) and decodes from the next round on.
    private static SyntheticDecoder HeldAtFirstForward(ManualResetEventSlim started, bool batches, Action<IReadOnlyList<int>, float[]> steer,
        Action<IReadOnlyList<SyntheticDecoder.ForwardCall>>? beforeBatch = null, Func<IReadOnlyList<int>, int>? extraPositions = null)
    {
        var first = 0;
        return new SyntheticDecoder(Width, 4096, (history, logits) =>
        {
            if (Interlocked.Exchange(ref first, 1) == 0)
            {
                started.Wait(TimeSpan.FromSeconds(30));
            }

            steer(history, logits);
        })
        { BatchesDecode = batches, BeforeBatch = beforeBatch, ExtraPositions = extraPositions };
    }

    [Theory]
    [InlineData(16, true)]
    [InlineData(4, true)]
    [InlineData(1, true)]
    [InlineData(16, false)]
    public async Task EachRound_FeedsEveryUnfinishedSequence_InDecodeStepsOfAtMostTheWidth(int width, bool batches)
    {
        // The batch-size histogram, as recorded on this engine's loop thread (other tests' engines record beside it).
        var loopThread = -1;
        var recorded = new ConcurrentQueue<(int Thread, int Sequences)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == GenerationMetrics.MeterName && instrument.Name == "decode_batch_sequences")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => recorded.Enqueue((Environment.CurrentManagedThreadId, value)));
        listener.Start();

        using var started = new ManualResetEventSlim(false);
        var model = HeldAtFirstForward(started, batches, (history, logits) =>
        {
            Volatile.Write(ref loopThread, Environment.CurrentManagedThreadId);
            Forced(history, logits);
        });
        using var engine = Engine(model, new GenerationSchedulerOptions { MaxBatchSequences = width });
        var streams = new List<GenerationStream>();
        for (var r = 0; r < Mixed.Length; r++)
        {
            streams.Add(await engine.StartAsync(Greedy(Mixed[r].Prompt, Mixed[r].MaxTokens, r) with { N = Mixed[r].N }));
        }

        started.Set();
        for (var r = 0; r < Mixed.Length; r++)
        {
            using var stream = streams[r];
            var result = await stream.CollectAsync();
            Assert.All(result.Choices, c => Assert.Equal((new string('x', Mixed[r].MaxTokens), FinishReason.Length, Mixed[r].MaxTokens), (c.Text, c.FinishReason, c.CompletionTokens)));
        }

        // Request r samples its first token in round r + 1 and feeds every token but its last: rounds r + 1 .. r + max - 1.
        // A round's sequences, by arrival then choice, go in steps of the width (one each when the model does not batch).
        var expected = new List<string>();
        var lastRound = Mixed.Select((p, r) => r + p.MaxTokens - 1).Max();
        for (var round = 1; round <= lastRound; round++)
        {
            var live = Mixed.SelectMany((p, r) => round >= r + 1 && round <= r + p.MaxTokens - 1 ? Enumerable.Range(0, p.N).Select(c => $"{r}.{c}") : []);
            expected.AddRange(live.Chunk(batches ? width : 1).Select(step => string.Join(" ", step)));
        }

        var owners = Owners(model, Mixed);
        var actual = model.Batches.Select(step => string.Join(" ", step.Select(c => $"{owners[c.Sequence].Request}.{owners[c.Sequence].Choice}"))).ToList();
        Assert.Equal(expected, actual);
        Assert.All(model.Calls.Where(c => c.Tokens == 1), c => Assert.NotEqual(-1, c.Batch));
        Assert.Equal(0, model.LiveSequences);
        Assert.Equal(model.Batches.Select(step => step.Length), recorded.Where(r => r.Thread == Volatile.Read(ref loopThread)).Select(r => r.Sequences));
    }

    // Marker first tokens tell the requests apart inside the model; the end id is masked so every choice runs to max_tokens.
    private static GenerationRequest Marked(int marker, int promptTokens, int n, int maxTokens, long seed) => new()
    {
        PromptTokens = [marker, .. Enumerable.Range(0, promptTokens - 1).Select(i => (i * 7 + marker) % 30)],
        N = n,
        MaxTokens = maxTokens,
        Seed = seed,
        Sampling = new() { Temperature = 1, Logprobs = true, TopLogprobs = 2 },
    };

    private static void NoEnd(IReadOnlyList<int> history, float[] logits) => logits[WordTokenizer.Eos] -= 100;

    private static string Describe(GenerationResult r) =>
        string.Join("|", r.Choices.Select(c => $"{c.Text}/{c.FinishReason}/{c.CompletionTokens}/" +
            string.Join(",", c.Logprobs!.Select(l => $"{l.TokenId}:{BitConverter.SingleToUInt32Bits(l.Logprob)}"))));

    private static async Task<string> Alone(GenerationRequest request)
    {
        using var engine = Engine(new SyntheticDecoder(Width, 4096, NoEnd));
        using var stream = await engine.StartAsync(request);
        return Describe(await stream.CollectAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequestsCancelledOrOutOfContextMidway_EndAlone_AndTheOthersGiveWhatTheyGiveAlone(bool batches)
    {
        var survivors = new[] { Marked(23, 5, 2, 12, 11), Marked(26, 9, 3, 10, 12) };
        var expected = new List<string>();
        foreach (var request in survivors)
        {
            expected.Add(await Alone(request));
        }

        // Request 24 is cancelled from inside the model at its 4th token; request 25's sequences report a full context
        // after 3 tokens, so their next step would pass it.
        using var cancel = new CancellationTokenSource();
        using var started = new ManualResetEventSlim(false);
        var model = HeldAtFirstForward(started, batches, (history, logits) =>
        {
            if (history[0] == 24 && history.Count == 6 + 4)
            {
                cancel.Cancel();
            }

            NoEnd(history, logits);
        }, extraPositions: history => history[0] == 25 && history.Count >= 7 + 3 ? 4096 : 0);
        using var engine = Engine(model, new GenerationSchedulerOptions { MaxBatchSequences = 3 });
        using var first = await engine.StartAsync(survivors[0]);
        using var cancelled = await engine.StartAsync(Marked(24, 6, 2, 12, 13), cancel.Token);
        using var overflowing = await engine.StartAsync(Marked(25, 7, 2, 12, 14));
        using var last = await engine.StartAsync(survivors[1]);
        started.Set();

        Assert.Equal(expected[0], Describe(await first.CollectAsync()));
        Assert.Equal(expected[1], Describe(await last.CollectAsync()));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled.CollectAsync());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await overflowing.CollectAsync());
        Assert.Contains("context", error.Message, StringComparison.Ordinal);
        await Task.WhenAll(cancelled.Completion, overflowing.Completion);
        Assert.Equal(0, model.LiveSequences);
        Assert.Equal(0, engine.Scheduler.Admitted);

        // The two ended mid-way (after some tokens, before their last), and the survivors went on past them.
        var plans = new Plan[] { new(5, 2, 12), new(6, 2, 12), new(7, 2, 12), new(9, 3, 10) };
        var owners = Owners(model, plans);
        var steps = model.Batches.SelectMany(step => step).GroupBy(c => owners[c.Sequence].Request).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal((2 * 11, 3 * 9), (steps[0], steps[3]));
        Assert.Equal(2 * 4, steps[1]);
        Assert.Equal(2 * 3, steps[2]);
    }

    [Fact]
    public async Task DecodeStepThatThrows_FailsTheRequestsWithASequenceInIt_AndTheLoopGoesOn()
    {
        // Width 2: while all three run, a round's slots A0 A1 A2 B0 C0 go in steps [A0 A1] [A2 B0] [C0]. The step holding
        // B's third token throws: A (partly fed already) and B fail with its error, C goes on alone.
        var requests = new[] { Marked(23, 3, 3, 12, 21), Marked(24, 4, 1, 12, 22), Marked(25, 5, 1, 12, 23) };
        var expectedC = await Alone(requests[2]);
        var failure = new InvalidOperationException("The decode step failed.");
        using var started = new ManualResetEventSlim(false);
        SyntheticDecoder? model = null;
        model = HeldAtFirstForward(started, true, NoEnd, beforeBatch: step =>
        {
            if (step.Count == 2 && step[1].LengthBefore == 4 + 2 && model!.Calls.Any(c => c.Sequence == step[1].Sequence && c.Tokens == 4))
            {
                throw failure;
            }
        });
        using var engine = Engine(model, new GenerationSchedulerOptions { MaxBatchSequences = 2 });
        var streams = new List<GenerationStream>();
        foreach (var request in requests)
        {
            streams.Add(await engine.StartAsync(request));
        }

        started.Set();
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(async () => await streams[0].CollectAsync()));
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(async () => await streams[1].CollectAsync()));
        Assert.Equal(expectedC, Describe(await streams[2].CollectAsync()));
        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        await Task.WhenAll(streams.Select(s => s.Completion));
        Assert.Equal(0, model.LiveSequences);

        // The failed step is [A2 B0]; after it, only C's sequence is fed, the rest of that round included.
        var owners = Owners(model, [new(3, 3, 12), new(4, 1, 12), new(5, 1, 12)]);
        var named = model.Batches.Select(step => string.Join(" ", step.Select(c => $"{"ABC"[owners[c.Sequence].Request]}{owners[c.Sequence].Choice}"))).ToList();
        var failed = named.IndexOf("A2 B0", named.IndexOf("C0"));
        Assert.Equal(["A0 A1", "A2 B0", "C0"], named[(failed - 1)..(failed + 2)]);
        Assert.All(named.Skip(failed + 1), step => Assert.Equal("C0", step));
        Assert.Equal(12 - 1, named.Count(step => step == "C0"));
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
