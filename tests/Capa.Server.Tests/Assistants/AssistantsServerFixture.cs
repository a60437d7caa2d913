using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Assistants;

namespace Capa.Server.Tests.Assistants;

/// <summary>
/// One server with state in a temporary SQLite file, serving <see cref="ScriptedAssistantProvider"/> (<c>scripted</c>)
/// and <see cref="LocalTestProvider"/> (<c>local-chat</c>, <c>local-endless</c>, <c>local-fail-mid</c>).
/// </summary>
public sealed class AssistantsServerFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "capa-assistants-" + Guid.NewGuid().ToString("N"));

    public ScriptedAssistantProvider Scripted { get; } = new();

    public CapaTestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await CapaTestServer.StartAsync(
            new CapaServerOptions { StateDirectory = Path.Combine(_root, "state"), MaxBodyBytes = 1024 * 1024 },
            b =>
            {
                b.Services.AddChatProvider(Scripted);
                b.Services.AddChatProvider(new LocalTestProvider());
            });
    }

    public AssistantClient Client() => new(new ApiKeyCredential("unused"), new AssistantClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    });

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
