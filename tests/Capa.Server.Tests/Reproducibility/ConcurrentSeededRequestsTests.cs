using System.Collections.Concurrent;
using OpenAI.Chat;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>Seeded output does not depend on load: many requests in parallel, in any order, streamed or not.</summary>
public sealed class ConcurrentSeededRequestsTests : IAsyncLifetime
{
    private const int Requests = 200;
    private const int Parallelism = 8;

    private static readonly ChatMessage[] Story =
    [
        new SystemChatMessage("You are a helpful assistant that generates short stories."),
        new UserChatMessage("Generate a short story about a journey to Mars."),
    ];

    private static readonly ChatMessage[] Chinese =
    [
        new SystemChatMessage("你是一个乐于助人的助手。"),
        new UserChatMessage("火星上有生命吗？请用一句话回答。"),
    ];

    private readonly TempModels _models = new();
    private LocalReproServer _server = null!;

    public async Task InitializeAsync() => _server = await LocalReproServer.StartAsync(_models.Path);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _models.Dispose();
    }

    [Fact]
    public async Task TwoHundredSeededRequests_EightInParallel_MixedPromptsAndStreaming_GiveOneOutputPerPrompt_AndOneFingerprint()
    {
        var chat = _server.Chat("capa-tiny");

        // Every (prompt, stream) pair appears 50 times, in a fixed shuffled order, so neighbours in flight vary.
        var order = new Random(2024);
        var work = Enumerable.Range(0, Requests).Select(i => (Prompt: i % 2, Stream: (i / 2) % 2 == 1)).OrderBy(_ => order.Next()).ToArray();
        var outcomes = new ConcurrentBag<(int Prompt, bool Stream, ChatOutcome Outcome)>();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (item, _) =>
        {
            var messages = item.Prompt == 0 ? Story : Chinese;
            var outcome = await LocalReproServer.RunAsync(chat, messages, LocalReproServer.Options(maxTokens: 20, temperature: 0.7f, seed: 123), item.Stream);
            outcomes.Add((item.Prompt, item.Stream, outcome));
        });

        Assert.Equal(Requests, outcomes.Count);
        var perPrompt = outcomes.GroupBy(o => o.Prompt).OrderBy(g => g.Key).ToList();
        Assert.Equal(2, perPrompt.Count);
        var outputs = new List<string>();
        foreach (var group in perPrompt)
        {
            Assert.Equal(Requests / 2, group.Count());
            Assert.Equal(Requests / 4, group.Count(o => o.Stream));
            var distinct = group.Select(o => o.Outcome.Output).Distinct(StringComparer.Ordinal).ToList();
            Assert.True(distinct.Count == 1, $"Prompt {group.Key} gave {distinct.Count} distinct outputs:\n" + string.Join("\n---\n", distinct));
            var sample = group.First().Outcome;
            Assert.NotEqual(string.Empty, sample.Content);
            Assert.NotNull(sample.FinishReason);
            Assert.NotNull(sample.Usage);
            outputs.Add(distinct[0]);
        }

        // The two prompts must differ, or the check above could not tell one output from a constant one.
        Assert.NotEqual(outputs[0], outputs[1]);

        var fingerprints = outcomes.SelectMany(o => o.Outcome.Fingerprints).Distinct().ToList();
        var fingerprint = Assert.Single(fingerprints);
        Assert.Matches("^fp_[0-9a-f]{10}$", fingerprint);
        Assert.Equal(_server.Provider.GetModel("capa-tiny")!.SystemFingerprint, fingerprint);

        // Streams carry the fingerprint on every chunk: opening, deltas, finish and usage.
        Assert.All(outcomes.Where(o => o.Stream), o => Assert.True(o.Outcome.Fingerprints.Count >= 3));
    }
}
