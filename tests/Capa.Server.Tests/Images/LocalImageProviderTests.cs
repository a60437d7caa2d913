using Capa.Protocol.Images;
using Capa.Server.Images;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Tests.Images;

public sealed class LocalImageProviderTests : IDisposable
{
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-image-provider-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_models))
        {
            Directory.Delete(_models, recursive: true);
        }
    }

    private static ImageGenerationRequest Request(bool stream) => new()
    {
        Model = "gpt-image-1",
        Family = ImageModelFamily.GptImage,
        Prompt = "a cat",
        Size = "1024x1024",
        Width = 64,
        Height = 64,
        Quality = "high",
        Stream = stream,
        PartialImages = stream ? 1 : 0,
    };

    [Fact]
    public async Task An_empty_store_gets_capa_sd_tiny_and_every_alias_resolves_to_it()
    {
        using var provider = new LocalImageProvider(new ImageOptions { ModelsDirectory = _models, IntraOpThreads = 1 }, NullLogger<LocalImageProvider>.Instance);
        Assert.Equal(CapaSdTiny.Banner, provider.Prepare());
        Assert.Equal(CapaSdTiny.ModelId, provider.ModelId);
        foreach (string alias in ImageModels.Aliases.Append(CapaSdTiny.ModelId))
        {
            Assert.True(await provider.ServesAsync(alias, default), alias);
        }

        Assert.False(await provider.ServesAsync("flux-upstream", default));
        Assert.True(File.Exists(Path.Combine(_models, "capa", "capa-sd-tiny", "README.md")));
    }

    [Fact]
    public async Task A_full_queue_is_refused_at_once_and_a_cancelled_job_frees_its_place()
    {
        using var provider = new LocalImageProvider(
            new ImageOptions { ModelsDirectory = _models, IntraOpThreads = 1, MaxConcurrentJobs = 1, QueueLength = 0 },
            NullLogger<LocalImageProvider>.Instance);
        using var inPreview = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        using var cts = new CancellationTokenSource();

        // The first job stops in its preview callback (between steps) until released.
        Task<ImageOutcome> first = provider.GenerateAsync(new ImageCall
        {
            Request = Request(stream: true),
            Seed = 1,
            Preview = _ =>
            {
                inPreview.Release();
                release.Wait(TimeSpan.FromSeconds(30));
            },
        }, cts.Token);
        Assert.True(await inPreview.WaitAsync(TimeSpan.FromSeconds(60)));

        var full = await Assert.ThrowsAsync<ImageQueueFullException>(() => provider.GenerateAsync(new ImageCall { Request = Request(stream: false), Seed = 2 }, default));
        Assert.True(full.RetryAfterSeconds >= 1);

        await cts.CancelAsync();
        release.Release();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);

        ImageOutcome next = await provider.GenerateAsync(new ImageCall { Request = Request(stream: false), Seed = 2 }, default);
        Assert.Single(next.Images);
        Assert.Equal((64, 64), (next.Images[0].Width, next.Images[0].Height));
    }
}
