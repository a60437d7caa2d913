using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
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

/// <summary>A server whose store holds one Qwen2-VL folder (<c>capa testmodel --arch qwen2vl</c>), served by the local vision provider.</summary>
public sealed class Qwen2VlServerFixture : IAsyncLifetime
{
    public const string ModelId = "qwen2vl-tiny";

    private readonly string _root = Directory.CreateTempSubdirectory("capa-qwen2vl-provider-").FullName;

    public CapaTestServer Server { get; private set; } = null!;

    public string ModelDirectory => Path.Combine(_root, "models", ModelId);

    public Qwen2VLImageProcessor Processor => Qwen2VLImageProcessor.FromFolder(ModelDirectory);

    public async Task InitializeAsync()
    {
        Qwen2VlTestModelWriter.Write(seed: 11, ModelDirectory);
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

    public ChatClient Chat(string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    }).GetChatClient(model);
}

/// <summary>A Qwen2-VL folder through the server and the OpenAI .NET SDK: image tokens in usage, detail, seeds, bad shapes.</summary>
public sealed class Qwen2VlVisionProviderTests(Qwen2VlServerFixture fixture) : IClassFixture<Qwen2VlServerFixture>
{
    private const string Question = "这个图片里面有什么内容？";

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
    public async Task Usage_counts_the_image_pad_tokens_exactly_and_low_detail_lowers_the_pixel_budget()
    {
        var client = fixture.Chat(Qwen2VlServerFixture.ModelId);
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(Question)], Seeded(1, maxTokens: 1));
        ChatCompletion small = await client.CompleteChatAsync([Message(LocalVisionProviderTests.Png(200, 150))], Seeded(1, maxTokens: 1));
        ChatCompletion large = await client.CompleteChatAsync([Message(LocalVisionProviderTests.Png(900, 700), "high")], Seeded(1, maxTokens: 1));
        ChatCompletion low = await client.CompleteChatAsync([Message(LocalVisionProviderTests.Png(900, 700), "low")], Seeded(1, maxTokens: 1));

        // The image adds <|vision_start|>, its <|image_pad|> run and <|vision_end|>: 200×150 → 196×140 → 10×14 patches → 35.
        var processor = fixture.Processor;
        Assert.Equal(35, processor.CountImageTokens(200, 150));
        Assert.Equal(text.Usage.InputTokenCount + 35 + 2, small.Usage.InputTokenCount);
        Assert.Equal(text.Usage.InputTokenCount + processor.CountImageTokens(900, 700) + 2, large.Usage.InputTokenCount);
        Assert.Equal(text.Usage.InputTokenCount + processor.CountImageTokens(900, 700, Qwen2VLImageProcessor.LowDetailMaxPixels) + 2, low.Usage.InputTokenCount);
        Assert.True(low.Usage.InputTokenCount <= large.Usage.InputTokenCount);
        Assert.InRange(small.Usage.OutputTokenCount, 1, 1);
    }

    [Fact]
    public async Task Seeded_answers_about_an_image_repeat_and_streaming_says_the_same()
    {
        var client = fixture.Chat(Qwen2VlServerFixture.ModelId);
        var png = LocalVisionProviderTests.Png(120, 90, shade: 5);
        ChatCompletion first = await client.CompleteChatAsync([Message(png)], Seeded(7, maxTokens: 12));
        ChatCompletion second = await client.CompleteChatAsync([Message(png)], Seeded(7, maxTokens: 12));
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        Assert.False(string.IsNullOrEmpty(first.Content[0].Text));
        Assert.Equal(Qwen2VlServerFixture.ModelId, first.Model);

        var streamed = new StringBuilder();
        await foreach (StreamingChatCompletionUpdate update in client.CompleteChatStreamingAsync([Message(png)], Seeded(7, maxTokens: 12)))
        {
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(first.Content[0].Text, streamed.ToString());
    }

    [Fact]
    public async Task The_configured_pixel_cap_lowers_the_image_tokens_and_changes_the_fingerprint()
    {
        // 28 × 28 × 16 pixels: at most 16 image tokens, below the folder's own max_pixels (64 tokens).
        const long Cap = 28 * 28 * 16;
        var root = Directory.CreateTempSubdirectory("capa-qwen2vl-cap-").FullName;
        try
        {
            var vision = new LocalVisionProviderOptions
            {
                ModelsDirectory = Path.GetDirectoryName(fixture.ModelDirectory)!,
                CacheDirectory = Path.Combine(root, "cache"),
                CreateTinyModelWhenEmpty = false,
                Model = new LocalVisionModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
            };
            var config = Path.Combine(root, "capa.json");
            await File.WriteAllTextAsync(config, $$"""{ "vision": { "max_pixels": {{Cap}} } }""");
            await using var capped = await CapaTestServer.StartAsync(
                new CapaServerOptions { ConfigFile = config },
                b => b.Services.AddLocalVisionProvider(vision));
            var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(capped.BaseUrl + "/v1") })
                .GetChatClient(Qwen2VlServerFixture.ModelId);
            byte[] png = LocalVisionProviderTests.Png(900, 700);
            ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(Question)], Seeded(1, maxTokens: 1));
            ChatCompletion high = await client.CompleteChatAsync([Message(png, "high")], Seeded(1, maxTokens: 1));
            ChatCompletion uncapped = await fixture.Chat(Qwen2VlServerFixture.ModelId).CompleteChatAsync([Message(png, "high")], Seeded(1, maxTokens: 1));

            var processor = fixture.Processor;
            int cappedTokens = processor.CountImageTokens(900, 700, Cap);
            Assert.InRange(cappedTokens, 1, 16);
            Assert.True(cappedTokens < processor.CountImageTokens(900, 700), "the cap should bind below the folder's max_pixels");
            Assert.Equal(text.Usage.InputTokenCount + cappedTokens + 2, high.Usage.InputTokenCount);
            Assert.True(high.Usage.InputTokenCount < uncapped.Usage.InputTokenCount);
            Assert.NotEqual(uncapped.SystemFingerprint, high.SystemFingerprint);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task An_image_beyond_the_aspect_ratio_limit_is_OpenAIs_400_naming_the_part()
    {
        var body = JsonSerializer.Serialize(new
        {
            model = Qwen2VlServerFixture.ModelId,
            messages = new object[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = Question },
                        new { type = "image_url", image_url = new { url = "data:image/png;base64," + Convert.ToBase64String(LocalVisionProviderTests.Png(603, 3)) } },
                    },
                },
            },
        });
        using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, code: "invalid_image", param: "messages[0].content[1].image_url.url");
        Assert.Contains("aspect ratio", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
