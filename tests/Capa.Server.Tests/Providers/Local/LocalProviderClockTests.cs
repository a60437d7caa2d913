using System.ClientModel;
using Capa.Engine.Text.Generation;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// The local chat provider reads time from the server's <see cref="TimeProvider"/>: its model list is kept for
/// <see cref="LocalProviderOptions.ModelListCacheDuration"/> on that clock, and responses and chunks are dated by it.
/// </summary>
public sealed class LocalProviderClockTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2031, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-clock-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    public LocalProviderClockTests()
    {
        Directory.CreateDirectory(_models);
        Write(Path.Combine(_models, "first"), seed: 1);
    }

    public void Dispose()
    {
        foreach (var directory in new[] { _models, _models + ".cache" })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task TheModelList_IsReadAgain_OnlyOnceItIsOlderThanItsDuration_OnTheInjectedClock()
    {
        using var provider = new LocalChatProvider(Options(), time: _clock);
        Assert.Equal(["first"], await IdsAsync(provider));

        // A model installed now is not seen until the list has aged by the cache duration (5 s), whatever the wall clock.
        Write(Path.Combine(_models, "second"), seed: 2);
        Assert.Equal(["first"], await IdsAsync(provider));
        _clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(["first"], await IdsAsync(provider));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(["first", "second"], await IdsAsync(provider));

        // Removed the same way: gone from the list once it is read again.
        Directory.Delete(Path.Combine(_models, "second"), recursive: true);
        Assert.Equal(["first", "second"], await IdsAsync(provider));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(["first"], await IdsAsync(provider));
    }

    [Fact]
    public async Task Created_InResponsesAndChunks_IsTheServersClock()
    {
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(_clock);
            builder.Services.AddLocalChatProvider(Options());
        });
        var chat = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.BaseUrl + "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        }).GetChatClient("first");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.Equal(Start, completion.CreatedAt);

        _clock.Advance(TimeSpan.FromDays(3));
        var chunks = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 }))
        {
            Assert.Equal(Start.AddDays(3), update.CreatedAt);
            chunks++;
        }

        Assert.True(chunks >= 2, $"{chunks} chunks");
    }

    private LocalProviderOptions Options() => new()
    {
        ModelsDirectory = _models,
        CacheDirectory = _models + ".cache",
        CreateTinyModelWhenEmpty = false,
        Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
    };

    private static async Task<List<string>> IdsAsync(LocalChatProvider provider) =>
        [.. (await provider.GetModelsAsync(CancellationToken.None)).Select(m => m.Id).Order(StringComparer.Ordinal)];

    private static void Write(string directory, ulong seed) =>
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = seed }, directory);
}
