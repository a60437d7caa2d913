using System.ClientModel;
using Capa.Engine.Text.Generation;
using Capa.TestModels;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.JsonMode;

/// <summary>
/// One server over a store holding two generated random-weight models: a Qwen2 one (Hermes <c>&lt;tool_call&gt;</c>
/// template) and a Llama one (Llama 3 JSON tool calls), shared by the tests of a class.
/// </summary>
public sealed class JsonModeServerFixture : IAsyncLifetime
{
    public const string Qwen = "test/qwen2-tiny";
    public const string Llama = "test/llama-tiny";

    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-jsonmode-" + Guid.NewGuid().ToString("N"));
    private LocalChatProvider _provider = null!;

    public CapaTestServer Server { get; private set; } = null!;

    /// <summary>The id of a token in a served model's tokenizer.</summary>
    public int TokenId(string model, string token) =>
        Capa.Tokenizers.HfTokenizer.FromFolder(Path.Combine(_models, model)).TokenToId(token) ?? throw new ArgumentException($"'{token}' is not a token of {model}.");

    public static IReadOnlyList<string> Models => [Qwen, Llama];

    public async Task InitializeAsync()
    {
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Qwen2, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 11 }, Path.Combine(_models, "test", "qwen2-tiny"));
        TestModelWriter.Write(new TestModelSpec { Arch = TestModelArch.Llama, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 12 }, Path.Combine(_models, "test", "llama-tiny"));
        _provider = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            CacheDirectory = _models + ".cache",
            CreateTinyModelWhenEmpty = false,
            Model = new LocalChatModelOptions
            {
                Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 },
                Scheduler = new GenerationSchedulerOptions { MaxConcurrentRequests = 4, MaxQueuedRequests = 64 },
            },
        });
        Server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddChatProvider(_provider));
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _provider.Dispose();
        try
        {
            Directory.Delete(_models, recursive: true);
            Directory.Delete(_models + ".cache", recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public ChatClient Chat(string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(120),
    }).GetChatClient(model);
}
