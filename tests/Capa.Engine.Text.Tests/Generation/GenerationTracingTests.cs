using System.Collections.Concurrent;
using System.Diagnostics;
using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.Models.Diagnostics;
using Capa.TestModels;
using GenAi = Capa.Models.Diagnostics.CapaActivities.GenAi;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// With a listener on Capa's activity source, each request's queue wait, prefill and decode are spans under the activity
/// that was current when it started, with their token counts, although they run on the generation loop's thread.
/// </summary>
public sealed class GenerationTracingTests : IClassFixture<TinyModels>, IDisposable
{
    private const int Width = 40;
    private readonly TinyModels _models;
    private readonly ActivitySource _caller = new("Capa.Engine.Text.Tests.Caller." + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public GenerationTracingTests(TinyModels models)
    {
        _models = models;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CapaActivities.SourceName || source == _caller,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _caller.Dispose();
    }

    // Other tests run engines in this process at the same time: only spans of this test's traces are looked at.
    private Activity[] SpansOf(ActivityTraceId trace) => [.. _stopped.Where(a => a.TraceId == trace)];

    private static async Task<GenerationResult> Run(TextGenerationEngine engine, GenerationRequest request)
    {
        using var stream = await engine.StartAsync(request);
        return await stream.CollectAsync();
    }

    [Fact]
    public async Task Phases_AreSpansUnderTheCaller_WithTheirCounts()
    {
        // Ten prompt tokens in chunks of four: three prefill forwards; two choices of at most five tokens.
        var model = new SyntheticDecoder(Width, 64) { PrefillChunkTokens = 4 };
        using var engine = new TextGenerationEngine(model, new WordTokenizer(), [WordTokenizer.Eos]);
        var request = new GenerationRequest { PromptTokens = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], MaxTokens = 5, N = 2, Seed = 3 };

        GenerationResult result;
        Activity caller;
        using (caller = _caller.StartActivity("caller")!)
        {
            result = await Run(engine, request);
        }

        var spans = SpansOf(caller.TraceId);
        var queue = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.QueueSpan);
        var prefill = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.PrefillSpan);
        var decode = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.DecodeSpan);
        Assert.All(new[] { queue, prefill, decode }, s =>
        {
            Assert.Equal(caller.SpanId, s.ParentSpanId);
            Assert.Equal(CapaActivities.SourceName, s.Source.Name);
            Assert.Equal(ActivityStatusCode.Unset, s.Status);
        });

        Assert.Equal(10, prefill.GetTagItem(GenAi.InputTokens));
        Assert.Equal(0, prefill.GetTagItem(GenAi.CacheReadInputTokens));
        Assert.Equal(3, prefill.GetTagItem(GenAi.PrefillChunks));
        Assert.Equal(2, decode.GetTagItem(GenAi.DecodeSequences));
        Assert.Equal(result.CompletionTokens, decode.GetTagItem(GenAi.OutputTokens));
    }

    [Fact]
    public async Task TheLoopThread_KeepsNoCurrentActivity_SoALaterRequestIsNotHungUnderAnEarlierOne()
    {
        using var engine = new TextGenerationEngine(new SyntheticDecoder(Width, 64), new WordTokenizer(), [WordTokenizer.Eos]);
        Activity first;
        using (first = _caller.StartActivity("first")!)
        {
            await Run(engine, new GenerationRequest { PromptTokens = [0, 1, 2], MaxTokens = 3, Seed = 1 });
        }

        Activity second;
        using (second = _caller.StartActivity("second")!)
        {
            await Run(engine, new GenerationRequest { PromptTokens = [3, 4, 5], MaxTokens = 3, Seed = 2 });
        }

        Assert.Equal(3, SpansOf(first.TraceId).Count(s => s.Source.Name == CapaActivities.SourceName));
        var phases = SpansOf(second.TraceId).Where(s => s.Source.Name == CapaActivities.SourceName).ToArray();
        Assert.Equal(3, phases.Length);
        Assert.All(phases, s => Assert.Equal(second.SpanId, s.ParentSpanId));
    }

    [Fact]
    public async Task ACancelledRequest_EndsItsOpenPhaseAsAnError()
    {
        // Never ends by itself: it decodes until cancelled.
        var model = new SyntheticDecoder(Width, 4096, (history, logits) => logits[16] += 50);
        using var engine = new TextGenerationEngine(model, new WordTokenizer(), [WordTokenizer.Eos]);
        Activity caller;
        using (caller = _caller.StartActivity("caller")!)
        {
            var stream = await engine.StartAsync(new GenerationRequest { PromptTokens = [0, 1, 2], Seed = 5 });
            await using (var updates = stream.ReadAllAsync().GetAsyncEnumerator())
            {
                Assert.True(await updates.MoveNextAsync());
            }

            stream.Dispose();
            await stream.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var decode = Assert.Single(SpansOf(caller.TraceId), s => s.OperationName == TextGenerationEngine.DecodeSpan);
        Assert.Equal(ActivityStatusCode.Error, decode.Status);
        Assert.Equal(typeof(OperationCanceledException).FullName, decode.GetTagItem("error.type"));
    }

    [Fact]
    public async Task APrefixFromTheCache_IsCountedAsCachedInputTokens()
    {
        var folder = ModelFolder.Load(_models.Get(TestModelArch.Qwen2), ModelVariant.Fp32);
        using var model = OnnxDecoderModel.Load(folder, new OnnxDecoderOptions { IntraOpThreads = 2, PrefillChunkTokens = 8 });
        using var engine = new TextGenerationEngine(model, new IdTokenizer(model.LogitsWidth - 5), [], prefixCacheBytes: 1 << 20);
        int[] prompt = [.. Enumerable.Range(0, 20).Select(i => ((i * 37) + 3) % 200)];

        await Run(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = 2, Seed = 1 });
        Activity caller;
        using (caller = _caller.StartActivity("caller")!)
        {
            await Run(engine, new GenerationRequest { PromptTokens = prompt, MaxTokens = 2, Seed = 1 });
        }

        // 16 of 20 positions are two whole chunks held by the cache; the last four are one computed chunk.
        var prefill = Assert.Single(SpansOf(caller.TraceId), s => s.OperationName == TextGenerationEngine.PrefillSpan);
        Assert.Equal(20, prefill.GetTagItem(GenAi.InputTokens));
        Assert.Equal(16, prefill.GetTagItem(GenAi.CacheReadInputTokens));
        Assert.Equal(1, prefill.GetTagItem(GenAi.PrefillChunks));
    }
}
