using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Images;

namespace Capa.Server.Tests.Images;

/// <summary>A clock tests move by hand.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// A server with the image area over an empty store (so it serves capa-sd-tiny), a manual clock for URL expiry, and the
/// fake upstream for models that are not local.
/// </summary>
public sealed class ImageServerFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "capa-images-" + Guid.NewGuid().ToString("N"));

    public ManualTimeProvider Clock { get; } = new();

    public CapaTestServer Server { get; private set; } = null!;

    public FakeUpstream Upstream { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string models = Path.Combine(Directory, "models");
        Upstream = await FakeUpstream.StartAsync();
        Server = await CapaTestServer.StartAsync(
            new CapaServerOptions
            {
                ModelsDirectory = models,
                Upstreams = [new UpstreamOptions { Name = "fake", BaseUrl = new Uri(Upstream.BaseUrl + "/v1"), ApiKey = FakeUpstream.ApiKey, Models = ["flux-upstream"] }],
            },
            builder =>
            {
                builder.Services.AddSingleton<TimeProvider>(Clock);
                builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(Directory, "files") });
            });
    }

    public ImageClient Images(string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(120),
    }).GetImageClient(model);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
