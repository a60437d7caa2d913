using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Engine.Text.Generation;
using Capa.TestModels;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Responses;

namespace Capa.Server.Tests.Responses;

/// <summary>
/// One server with state in a temporary SQLite file, serving the scripted <see cref="LocalTestProvider"/>
/// (<c>local-chat</c> answers "local answer" and records each call by its <c>user</c>) and a generated random-weight
/// Qwen2 model (<see cref="Qwen"/>) for tools and structured output through the real engine.
/// </summary>
public sealed class ResponsesServerFixture : IAsyncLifetime
{
    public const string Qwen = "test/qwen2-tiny";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-responses-" + Guid.NewGuid().ToString("N"));
    private LocalChatProvider _provider = null!;

    public LocalTestProvider Local { get; } = new();

    public CapaTestServer Server { get; private set; } = null!;

    public string StateDirectory => Path.Combine(_root, "state");

    public async Task InitializeAsync()
    {
        var models = Path.Combine(_root, "models");
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 11 }, Path.Combine(models, "test", "qwen2-tiny"));
        _provider = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = models,
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions
            {
                Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
                Scheduler = new GenerationSchedulerOptions { MaxConcurrentRequests = 4, MaxQueuedRequests = 64 },
            },
        });
        Server = await CapaTestServer.StartAsync(
            new CapaServerOptions { StateDirectory = StateDirectory, MaxBodyBytes = 1024 * 1024 },
            b =>
            {
                b.Services.AddChatProvider(Local);
                b.Services.AddChatProvider(_provider);
            });
    }

#pragma warning disable OPENAI001 // The Responses client is marked experimental.
    public ResponsesClient Client() => new(new ApiKeyCredential("unused"), new ResponsesClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(120),
    });
#pragma warning restore OPENAI001

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _provider.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
