using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Server.Hosting;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>
/// One fake upstream and one Capa server shared by the end-to-end tests: API key <see cref="ApiKey"/>, a 64 KiB body
/// limit, the local test provider, an upstream <c>fake</c> for named models and an upstream <c>slow</c> with a 1 s
/// timeout, and the alias <c>gpt-4o</c> to <c>fake-model</c>. No upstream takes unknown ids.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string ApiKey = "sk-capa-test-0123456789abcdef";
    public const long MaxBodyBytes = 64 * 1024;

    public FakeUpstream Upstream { get; private set; } = null!;

    public CapaTestServer Server { get; private set; } = null!;

    public LocalTestProvider Local { get; } = new();

    /// <summary>An unused port on 127.0.0.1 (bound, then released), for an upstream that refuses connections.</summary>
    public int ClosedPort { get; private set; }

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        ClosedPort = TestPorts.FindClosedPort();
        var upstreamV1 = new Uri(Upstream.BaseUrl + "/v1");
        Server = await CapaTestServer.StartAsync(
            new CapaServerOptions
            {
                ApiKeys = [ApiKey],
                MaxBodyBytes = MaxBodyBytes,
                Upstreams =
                [
                    new UpstreamOptions
                    {
                        Name = "fake",
                        BaseUrl = upstreamV1,
                        ApiKey = FakeUpstream.ApiKey,
                        Models = ["fake-model", "upstream-400", "upstream-503", "upstream-500-text", "upstream-hang-stream", "upstream-ignores-stream", "org/upstream-model"],
                    },
                    new UpstreamOptions { Name = "slow", BaseUrl = upstreamV1, Models = ["upstream-slow", "upstream-stall"], Timeout = TimeSpan.FromSeconds(1) },
                    new UpstreamOptions { Name = "down", BaseUrl = new Uri($"http://127.0.0.1:{ClosedPort}/v1"), Models = ["upstream-down"] },
                ],
                Aliases = new Dictionary<string, string> { ["gpt-4o"] = "fake-model" },
            },
            builder => builder.Services.AddChatProvider(Local));
    }

    public ChatClient Chat(string model, string? key = ApiKey) => Client(key).GetChatClient(model);

    public OpenAIClient Client(string? key = ApiKey) => new(
        new ApiKeyCredential(key ?? ApiKey),
        new OpenAIClientOptions
        {
            Endpoint = new Uri(Server.BaseUrl + "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(60),
        });

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
