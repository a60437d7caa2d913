using OpenAI.Chat;

namespace Capa.Server.Tests.Reproducibility;

/// <summary>Without a seed every call draws fresh randomness, and its <c>x-capa-seed</c> header replays it exactly.</summary>
public sealed class SeedReplayTests(TinyServerFixture fixture) : IClassFixture<TinyServerFixture>
{
    private const int Runs = 4;

    private static readonly ChatMessage[] Story = [new UserChatMessage("Tell me a story about a journey to Mars.")];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnseededRuns_Differ_AndEachReplaysFromItsSeedHeader(bool stream)
    {
        var capture = new SeedHeaderCapture();
        var chat = fixture.Server.Chat("capa-tiny", capture);
        var runs = new List<ChatOutcome>();
        for (var i = 0; i < Runs; i++)
        {
            runs.Add(await LocalReproServer.RunAsync(chat, Story, LocalReproServer.Options(maxTokens: 16, temperature: 1f, seed: null), stream, capture));
        }

        Assert.All(runs, r => Assert.Matches("^[0-9]+$", r.SeedHeader));
        Assert.Equal(Runs, runs.Select(r => r.Seed).Distinct().Count());
        Assert.True(runs.Select(r => r.Content).Distinct(StringComparer.Ordinal).Count() >= 2, "Unseeded runs at temperature 1 all gave the same content.");

        foreach (var run in runs)
        {
            // Replayed the same way, and the other way (a streamed answer replays as a plain one and back).
            foreach (var replayStream in new[] { stream, !stream })
            {
                var replay = await LocalReproServer.RunAsync(chat, Story, LocalReproServer.Options(maxTokens: 16, temperature: 1f, seed: run.Seed), replayStream, capture);
                Assert.Equal(run.Content, replay.Content);
                Assert.Equal(run.Output, replay.Output);
                Assert.Equal(run.SeedHeader, replay.SeedHeader);
                Assert.Equal(run.Fingerprints.Distinct(), replay.Fingerprints.Distinct());
            }
        }
    }
}
