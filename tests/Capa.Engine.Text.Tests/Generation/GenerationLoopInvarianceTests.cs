using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// A seeded request gives the same bytes (text, logprobs, finish, the bits of every logits row it samples from) alone and
/// amid 1, 3 and 15 other requests of different lengths that start before it and while it decodes, streamed and not, with
/// the prefix cache on and off, on every family's test model in fp32 and q4. Each case runs twice: on the model as it
/// is, and through <see cref="BatchingView"/>, which makes the loop build decode steps of several sequences whatever
/// the model does with them (until a model batches for real, the default <see cref="IDecoderModel.DecodeBatch"/> feeds
/// them one at a time; once it does, the same test covers its batched step).
/// </summary>
public sealed class GenerationLoopInvarianceTests(TinyModels models) : IClassFixture<TinyModels>
{
    private const int Chunk = 8;
    private const int Width = 16;

    public static TheoryData<TestModelArch, ModelVariant, bool> Cases()
    {
        var data = new TheoryData<TestModelArch, ModelVariant, bool>();
        foreach (var arch in Enum.GetValues<TestModelArch>())
        {
            foreach (var variant in new[] { ModelVariant.Fp32, ModelVariant.Q4 })
            {
                data.Add(arch, variant, false);
                data.Add(arch, variant, true);
            }
        }

        return data;
    }

    private static int[] Tokens(int count, int salt) => [.. Enumerable.Range(0, count).Select(i => ((i * 37) + (salt * 11) + 3) % 200)];

    // The traced request: two choices, logprobs with alternatives, a prompt of two whole chunks and a part.
    private static GenerationRequest Target() => new()
    {
        PromptTokens = Tokens(21, 1),
        MaxTokens = 6,
        N = 2,
        Seed = 77,
        Sampling = new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, Logprobs = true, TopLogprobs = 3 },
    };

    // Others: 5 to 47 prompt tokens (every other one starting with the target's first two chunks, so the prefix cache
    // serves them and the target), 1 to 3 choices, 6 to 12 tokens.
    private static GenerationRequest Other(int i)
    {
        var own = Tokens(5 + (3 * i), 30 + i);
        return new GenerationRequest
        {
            PromptTokens = i % 2 == 0 ? [.. Tokens(21, 1)[..16], .. own] : own,
            MaxTokens = 6 + (i % 7),
            N = 1 + (i % 3),
            Seed = 500 + i,
            Sampling = new SamplingOptions { Temperature = 1, Logprobs = i % 2 == 1, TopLogprobs = i % 2 == 1 ? 2 : 0 },
        };
    }

    private static string Bits(float value) => BitConverter.SingleToUInt32Bits(value).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(IEnumerable<TokenLogprob>? logprobs) =>
        logprobs is null ? "-" : string.Join(",", logprobs.Select(l => $"{l.TokenId}:{Bits(l.Logprob)}:" + string.Join(";", l.TopAlternatives.Select(t => $"{t.TokenId}={Bits(t.Logprob)}"))));

    // Streamed: every update in order, as a client sees it. Not streamed: the collected choices.
    private static async Task<(string Output, int Cached)> Consume(TextGenerationEngine engine, GenerationRequest request, bool streamed)
    {
        using var stream = await engine.StartAsync(request);
        if (streamed)
        {
            var updates = new List<string>();
            await foreach (var u in stream.ReadAllAsync())
            {
                updates.Add($"{u.ChoiceIndex}/{u.Text}/{Describe(u.Logprobs)}/{u.FinishReason}/{u.CompletionTokens}");
            }

            return (string.Join("\n", updates) + $"\n{stream.CompletionTokens}", stream.CachedPromptTokens);
        }

        var result = await stream.CollectAsync();
        return (string.Join("\n", result.Choices.Select(c => $"{c.Index}/{c.Text}/{Describe(c.Logprobs)}/{c.FinishReason}/{c.CompletionTokens}")) + $"\n{result.CompletionTokens}",
            result.CachedPromptTokens);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task SeededRequest_AloneAndAmidOthers_GivesTheSameBytes(TestModelArch arch, ModelVariant variant, bool batchingView)
    {
        using var onnx = OnnxDecoderModel.Load(ModelFolder.Load(models.Get(arch), variant), new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = Chunk });
        var view = batchingView ? new BatchingView(onnx) : null;
        IDecoderModel model = view ?? (IDecoderModel)onnx;
        var scheduler = new GenerationSchedulerOptions { MaxConcurrentRequests = 16, MaxBatchSequences = Width };
        using var plain = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], scheduler, prefixCacheBytes: 0);
        using var cached = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], scheduler, prefixCacheBytes: 64 << 20);

        // The logits rows the target samples from, by choice and position. Requests wait for others to reach a position:
        // the early others' first token lets the target in, the target's second lets the late others in.
        var rows = new List<string>();
        var gate = new Lock();
        GenerationRequest? traced = null;
        var reached = new Dictionary<GenerationRequest, (int Position, TaskCompletionSource Done)>(ReferenceEqualityComparer.Instance);
        void Observe(GenerationRequest request, int choice, int position, ReadOnlySpan<float> logits)
        {
            lock (gate)
            {
                if (reached.TryGetValue(request, out var wait) && position == wait.Position)
                {
                    wait.Done.TrySetResult();
                }

                if (!ReferenceEquals(request, traced))
                {
                    return;
                }
            }

            var h = 2166136261u;
            foreach (var f in logits)
            {
                h = (h ^ BitConverter.SingleToUInt32Bits(f)) * 16777619u;
            }

            lock (gate)
            {
                rows.Add($"{choice}:{position}:{h:x8}");
            }
        }

        Task Reaching(GenerationRequest request, int position)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                reached[request] = (position, done);
            }

            return done.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }

        plain.Observer = Observe;
        cached.Observer = Observe;

        async Task<(string Output, string Rows, int Cached)> RunTarget(TextGenerationEngine engine, int others, bool streamed)
        {
            var target = Target();
            lock (gate)
            {
                traced = target;
                rows.Clear();
                reached.Clear();
            }

            // The early half decodes when the target arrives (its choices then sit behind theirs in each round's steps);
            // the rest arrive while it decodes. Every other one is streamed.
            var early = Enumerable.Range(0, others / 2).Select(Other).ToList();
            var started = early.Select(r => Reaching(r, 0)).ToList();
            var crowd = early.Select((r, i) => Task.Run(() => Consume(engine, r, streamed: i % 2 == 0))).ToList();
            await Task.WhenAll(started);
            var targetDecoding = Reaching(target, 1);
            var run = Task.Run(() => Consume(engine, target, streamed));
            if (others > early.Count)
            {
                await targetDecoding;
                crowd.AddRange(Enumerable.Range(early.Count, others - early.Count).Select(i => Task.Run(() => Consume(engine, Other(i), streamed: i % 2 == 0))));
            }

            var (output, cachedTokens) = await run;
            await Task.WhenAll(crowd);
            lock (gate)
            {
                return (output, string.Join(",", rows.Order(StringComparer.Ordinal)), cachedTokens);
            }
        }

        var aloneStreamed = await RunTarget(plain, 0, streamed: true);
        var aloneCollected = await RunTarget(plain, 0, streamed: false);
        Assert.Equal(aloneStreamed.Rows, aloneCollected.Rows);
        Assert.Equal(2 * 6, aloneStreamed.Rows.Split(',').Length);

        var cachedRuns = 0;
        foreach (var (others, streamed, withCache) in new[] { (1, false, false), (1, true, true), (3, true, false), (3, false, true), (15, false, false), (15, true, true) })
        {
            var amid = await RunTarget(withCache ? cached : plain, others, streamed);
            var label = $"amid {others}, {(streamed ? "streamed" : "collected")}, cache {(withCache ? "on" : "off")}";
            Assert.True((streamed ? aloneStreamed : aloneCollected).Output == amid.Output, label + ": output differs");
            Assert.True(aloneStreamed.Rows == amid.Rows, label + ": logits differ");

            // The cache's first run starts empty; later ones find the target's two whole chunks, kept from before.
            Assert.Equal(withCache && cachedRuns++ > 0 ? 2 * Chunk : 0, amid.Cached);
        }

        if (view is not null)
        {
            // The loop really stepped several sequences at once, never more than the width.
            Assert.InRange(view.WidestStep, 2, Width);
        }
    }

    /// <summary>A decoder as it is, but declaring that it batches decode, so the loop hands it steps of several sequences.</summary>
    private sealed class BatchingView(IDecoderModel inner) : IDecoderModel
    {
        private int _widest;

        public int WidestStep => Volatile.Read(ref _widest);

        public int LogitsWidth => inner.LogitsWidth;

        public int MaxContextLength => inner.MaxContextLength;

        public int PrefillChunkTokens => inner.PrefillChunkTokens;

        public long KvBytesPerToken => inner.KvBytesPerToken;

        public bool SupportsKvBlocks => inner.SupportsKvBlocks;

        public bool BatchesDecode => true;

        public IDecoderSequence CreateSequence() => inner.CreateSequence();

        public IDecoderSequence CreateSequence(IReadOnlyList<KvBlock> prefix) => inner.CreateSequence(prefix);

        public void DecodeBatch(ReadOnlySpan<DecodeSlot> slots)
        {
            if (slots.Length > _widest)
            {
                Volatile.Write(ref _widest, slots.Length);
            }

            inner.DecodeBatch(slots);
        }
    }
}
