using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using OpenAI;
using OpenAI.Files;

namespace Capa.Server.Tests.Files;

/// <summary>One server with state in a temporary folder and a 256 KiB file limit.</summary>
public sealed class FilesServerFixture : IAsyncLifetime
{
    public const long MaxFileBytes = 256 * 1024;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-files-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public string StateDirectory => Path.Combine(_root, "state");

    public async Task InitializeAsync()
    {
        Server = await CapaTestServer.StartAsync(new CapaServerOptions { StateDirectory = StateDirectory, MaxFileBytes = MaxFileBytes });
    }

    public OpenAIClientOptions ClientOptions() => new()
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    };

    public OpenAIFileClient Files() => new(new ApiKeyCredential("unused"), ClientOptions());

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
