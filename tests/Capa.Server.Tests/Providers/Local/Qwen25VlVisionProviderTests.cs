using System.ClientModel;
using Capa.Engine.Text.Generation;
using Capa.Engine.Vision;
using Capa.Engine.Vision.Qwen2VL;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels.Vision;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>A server whose store holds one Qwen2.5-VL-shaped folder (<c>capa testmodel --arch qwen2.5vl</c>), served by the local vision provider.</summary>
public sealed class Qwen25VlServerFixture : IAsyncLifetime
{
    public const string ModelId = "qwen2.5vl-tiny";

    private readonly string _root = Directory.CreateTempSubdirectory("capa-qwen25vl-provider-").FullName;

    public CapaTestServer Server { get; private set; } = null!;

    public string ModelDirectory => Path.Combine(_root, "models", ModelId);

    public Qwen2VLImageProcessor Processor => Qwen2VLImageProcessor.FromFolder(ModelDirectory);

    public async Task InitializeAsync()
    {
        Qwen2VlTestModelWriter.Write(seed: 11, ModelDirectory, Qwen2VlTestFamily.Qwen25);
        var vision = new LocalVisionProviderOptions
        {
            ModelsDirectory = Path.Combine(_root, "models"),
            CacheDirectory = Path.Combine(_root, "cache"),
            CreateTinyModelWhenEmpty = false,
            Model = new LocalVisionModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        };
        Server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddLocalVisionProvider(vision));
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    public ChatClient Chat() => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    }).GetChatClient(ModelId);
}

/// <summary>A Qwen2.5-VL folder (qwen2_5_vl, nested text_config, image_grid_thw) through the server and the OpenAI .NET SDK.</summary>
public sealed class Qwen25VlVisionProviderTests(Qwen25VlServerFixture fixture) : IClassFixture<Qwen25VlServerFixture>
{
    private const string Question = "What is in this picture?";

    private static UserChatMessage Message(byte[] png, string detail = "auto") => new(
        ChatMessageContentPart.CreateTextPart(Question),
        ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png", new ChatImageDetailLevel(detail)));

    private static ChatCompletionOptions Seeded(long seed, int maxTokens)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = 0.8f };
        options.Seed = seed;
        return options;
    }

    [Fact]
    public async Task An_image_is_answered_and_usage_counts_the_image_pad_tokens_exactly()
    {
        var client = fixture.Chat();
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(Question)], Seeded(1, maxTokens: 1));
        ChatCompletion small = await client.CompleteChatAsync([Message(LocalVisionProviderTests.Png(200, 150))], Seeded(1, maxTokens: 4));
        ChatCompletion large = await client.CompleteChatAsync([Message(LocalVisionProviderTests.Png(900, 700), "high")], Seeded(1, maxTokens: 1));

        // The image adds <|vision_start|>, its <|image_pad|> run and <|vision_end|>: 200×150 → 196×140 → 10×14 patches → 35.
        var processor = fixture.Processor;
        Assert.Equal(35, processor.CountImageTokens(200, 150));
        Assert.Equal(text.Usage.InputTokenCount + 35 + 2, small.Usage.InputTokenCount);
        Assert.Equal(text.Usage.InputTokenCount + processor.CountImageTokens(900, 700) + 2, large.Usage.InputTokenCount);
        Assert.True(large.Usage.InputTokenCount > small.Usage.InputTokenCount);
        Assert.InRange(small.Usage.OutputTokenCount, 1, 4);
        Assert.Equal(Qwen25VlServerFixture.ModelId, small.Model);
        Assert.NotEqual(ChatFinishReason.ContentFilter, small.FinishReason);
        Assert.False(string.IsNullOrEmpty(small.Content[0].Text));
    }
}
