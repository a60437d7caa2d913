using System.ClientModel;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Engine.Vision;
using Capa.Engine.Vision.Idefics3;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>
/// One server on a fresh, empty store with the local text and vision providers: <c>capa-tiny</c> and
/// <c>capa-tiny-vision</c> are created in the cache, as <c>capa serve</c> does on a fresh clone.
/// </summary>
public sealed class TinyVisionServerFixture : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-vision-provider-").FullName;
    private LocalChatProvider _chat = null!;

    public CapaTestServer Server { get; private set; } = null!;

    public string? Banner { get; private set; }

    public string CacheDirectory => Path.Combine(_root, "cache");

    public LocalVisionProvider Vision => Server.Services.GetRequiredService<LocalVisionProvider>();

    public LocalVisionModel Model => Vision.GetModel(CapaTinyVision.ModelId)!;

    public Idefics3ImageProcessor Processor => Idefics3ImageProcessor.FromFolder(CapaTinyVision.PathIn(CacheDirectory));

    public async Task InitializeAsync()
    {
        var models = Path.Combine(_root, "models");
        _chat = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = models,
            CacheDirectory = CacheDirectory,
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        });
        _chat.PrepareStore();
        var vision = new LocalVisionProviderOptions
        {
            ModelsDirectory = models,
            CacheDirectory = CacheDirectory,
            Model = new LocalVisionModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        };
        Server = await CapaTestServer.StartAsync(new CapaServerOptions(), b =>
        {
            b.Services.AddChatProvider(_chat);
            b.Services.AddLocalVisionProvider(vision);
        });
        Banner = Vision.PrepareStore();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _chat.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    public ChatClient Chat(string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    }).GetChatClient(model);
}

/// <summary>
/// The local vision provider through the official OpenAI .NET SDK: the tutorial's vision example (its question, the
/// image as a data: URL) answered offline by <c>capa-tiny-vision</c>, streamed and not; seeded requests repeat; image
/// tokens counted exactly; the context checked before the encoder; one image encoded once across turns.
/// </summary>
public sealed class LocalVisionProviderTests(TinyVisionServerFixture fixture) : IClassFixture<TinyVisionServerFixture>
{
    private const string Question = "这个图片里面有什么内容？";

    /// <summary>The tutorial's message: its question, then the image (a generated PNG sent as a data: URL).</summary>
    private static UserChatMessage TutorialMessage(byte[] png, string detail = "auto") => new(
        ChatMessageContentPart.CreateTextPart(Question),
        ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png", new ChatImageDetailLevel(detail)));

    private static ChatCompletionOptions Seeded(long seed, int maxTokens = 40)
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = 0.8f };
        options.Seed = seed;
        return options;
    }

    [Fact]
    public async Task The_tutorial_vision_example_is_answered_by_capa_tiny_vision_streamed_and_not()
    {
        Assert.NotNull(fixture.Banner);
        Assert.Contains("capa pull", fixture.Banner, StringComparison.Ordinal);
        Assert.True(CapaTinyVision.IsWritten(fixture.CacheDirectory));

        var client = fixture.Chat("gpt-4-vision-preview");
        ChatCompletion completion = await client.CompleteChatAsync([TutorialMessage(Png(48, 40))], Seeded(7));
        Assert.Equal("gpt-4-vision-preview", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(fixture.Model.SystemFingerprint, completion.SystemFingerprint);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 40);
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));

        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (StreamingChatCompletionUpdate update in client.CompleteChatStreamingAsync([TutorialMessage(Png(48, 40))], Seeded(7)))
        {
            Assert.Equal("gpt-4-vision-preview", update.Model);
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal(completion.Content[0].Text, streamed.ToString());
    }

    [Fact]
    public async Task Seeded_requests_repeat_byte_for_byte()
    {
        var body = JsonSerializer.Serialize(new
        {
            model = "gpt-4o",
            seed = 42,
            temperature = 1.0,
            max_tokens = 30,
            messages = new object[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = Question },
                        new { type = "image_url", image_url = new { url = "data:image/png;base64," + Convert.ToBase64String(Png(50, 30, shade: 9)) } },
                    },
                },
            },
        });

        async Task<string> Answer()
        {
            using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            // Everything but the id and the clock.
            var root = json.RootElement;
            return root.GetProperty("model").GetRawText() + root.GetProperty("system_fingerprint").GetRawText()
                + root.GetProperty("choices").GetRawText() + root.GetProperty("usage").GetRawText();
        }

        var first = await Answer();
        var second = await Answer();
        Assert.Equal(first, second);
        Assert.Contains("\"gpt-4o\"", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_counts_the_image_tokens_exactly_low_detail_being_the_global_tile_alone()
    {
        var png = Png(48, 40, shade: 3);
        var client = fixture.Chat(CapaTinyVision.ModelId);
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(Question)], Seeded(1, maxTokens: 1));
        ChatCompletion low = await client.CompleteChatAsync([TutorialMessage(png, "low")], Seeded(1, maxTokens: 1));
        ChatCompletion high = await client.CompleteChatAsync([TutorialMessage(png, "high")], Seeded(1, maxTokens: 1));
        ChatCompletion auto = await client.CompleteChatAsync([TutorialMessage(png, "auto")], Seeded(1, maxTokens: 1));

        // The text-only prompt lacks just the image: low adds <fake_token_around_image><global-img>, image_seq_len
        // <image> tokens and the closing <fake_token_around_image>.
        var processor = fixture.Processor;
        Assert.Equal(text.Usage.InputTokenCount + processor.ImageSeqLen + 3, low.Usage.InputTokenCount);

        // 48×40 is resized to a longest edge of 64, so it is cut into 2×2 tiles before the same global tile.
        var plan = processor.Plan(48, 40, split: true);
        Assert.Equal((2, 2), (plan.Rows, plan.Cols));
        var expansion = fixture.Model.Folder.Tokenizer.Encode(processor.ExpandPrompt(2, 2)).Length;
        Assert.Equal(text.Usage.InputTokenCount + expansion, high.Usage.InputTokenCount);
        Assert.Equal(high.Usage.InputTokenCount, auto.Usage.InputTokenCount);
        Assert.InRange(high.Usage.InputTokenCount - low.Usage.InputTokenCount, 4 * (processor.ImageSeqLen + 2), (4 * (processor.ImageSeqLen + 2)) + 3);
    }

    [Fact]
    public async Task The_tile_cap_tiles_a_large_image_as_if_it_were_smaller()
    {
        var png = Png(48, 40, shade: 3);
        var capped = new LocalVisionProviderOptions
        {
            ModelsDirectory = Path.Combine(fixture.CacheDirectory, "..", "models"),
            CacheDirectory = fixture.CacheDirectory,
            MaxTiles = 1,
            Model = new LocalVisionModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
        };
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddLocalVisionProvider(capped));
        var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseUrl + "/v1") })
            .GetChatClient(CapaTinyVision.ModelId);
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(Question)], Seeded(1, maxTokens: 1));
        ChatCompletion high = await client.CompleteChatAsync([TutorialMessage(png, "high")], Seeded(1, maxTokens: 1));

        // Uncapped, 48×40 is 2×2 tiles; capped at one tile it is the global image alone (one tile would repeat it).
        var processor = fixture.Processor;
        var plan = processor.Plan(48, 40, split: true, maxTiles: 1);
        Assert.True(plan.Rows * plan.Cols <= 1);
        var expansion = fixture.Model.Folder.Tokenizer.Encode(processor.ExpandPrompt(plan.Rows, plan.Cols)).Length;
        Assert.Equal(text.Usage.InputTokenCount + expansion, high.Usage.InputTokenCount);
        Assert.NotEqual(fixture.Model.SystemFingerprint, high.SystemFingerprint);
    }

    [Fact]
    public async Task A_multi_turn_chat_about_one_image_encodes_it_once()
    {
        var png = Png(40, 44, shade: 17);
        var client = fixture.Chat("gpt-4o-mini");
        var cache = fixture.Model.FeatureCache;
        var (hits, misses) = (cache.Hits, cache.Misses);

        List<ChatMessage> messages = [TutorialMessage(png)];
        ChatCompletion first = await client.CompleteChatAsync(messages, Seeded(3));
        messages.Add(new AssistantChatMessage(first.Content[0].Text));
        messages.Add(new UserChatMessage("图片的左上角是什么颜色？"));
        ChatCompletion second = await client.CompleteChatAsync(messages, Seeded(3));

        Assert.Equal(misses + 1, cache.Misses);
        Assert.Equal(hits + 1, cache.Hits);
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount);
    }

    [Fact]
    public async Task A_prompt_the_image_tokens_push_past_the_context_is_refused_before_the_encoder()
    {
        var model = fixture.Model;
        var client = fixture.Chat(CapaTinyVision.ModelId);

        // Text that fits with room for a few answer tokens, but not with a tiled image beside it.
        var filler = string.Concat(Enumerable.Repeat(" 猫", (model.MaxContextLength - 40) / Math.Max(1, model.Folder.Tokenizer.Encode(" 猫").Length)));
        ChatCompletion text = await client.CompleteChatAsync([new UserChatMessage(filler)], Seeded(1, maxTokens: 1));
        Assert.InRange(text.Usage.InputTokenCount, model.MaxContextLength - 100, model.MaxContextLength - 1);

        var misses = model.FeatureCache.Misses;
        var message = new UserChatMessage(
            ChatMessageContentPart.CreateTextPart(filler),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(Png(64, 64, shade: 33)), "image/png", ChatImageDetailLevel.High));
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([message], Seeded(1, maxTokens: 1)));
        Assert.Equal(400, error.Status);
        Assert.Contains("context_length_exceeded", error.Message, StringComparison.Ordinal);
        Assert.Equal(misses, model.FeatureCache.Misses);
    }

    [Fact]
    public async Task Json_mode_constrains_the_answer_about_an_image()
    {
        var options = Seeded(5, maxTokens: 60);
        options.ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat();
        ChatCompletion completion = await fixture.Chat("gpt-4o").CompleteChatAsync([new SystemChatMessage("Answer in JSON."), TutorialMessage(Png(32, 32, shade: 5))], options);
        if (completion.FinishReason == ChatFinishReason.Stop)
        {
            using var json = JsonDocument.Parse(completion.Content[0].Text);
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        }
        else
        {
            Assert.StartsWith("{", completion.Content[0].Text.TrimStart(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Text_alone_to_a_vision_alias_stays_on_capa_tiny_and_models_list_both()
    {
        ChatCompletion text = await fixture.Chat("gpt-4o").CompleteChatAsync([new UserChatMessage("你好")], Seeded(1, maxTokens: 5));
        Assert.NotEqual(fixture.Model.SystemFingerprint, text.SystemFingerprint);

        using var models = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/v1/models"));
        var data = models.RootElement.GetProperty("data").EnumerateArray().ToList();
        var tiny = data.Single(m => m.GetProperty("id").GetString() == CapaTinyVision.ModelId);
        Assert.Contains("vision", tiny.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        var alias = data.Single(m => m.GetProperty("id").GetString() == "gpt-4-vision-preview");
        Assert.Contains("vision", alias.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.Contains(CapaTiny.ModelId, data.Select(m => m.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Tools_with_an_image_are_refused_not_ignored()
    {
        var options = Seeded(1);
        options.Tools.Add(ChatTool.CreateFunctionTool("describe", "Describe an image."));
        var error = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat("gpt-4o").CompleteChatAsync([TutorialMessage(Png(20, 20))], options));
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task A_broken_image_is_OpenAIs_400_naming_the_part()
    {
        var body = JsonSerializer.Serialize(new
        {
            model = "gpt-4-vision-preview",
            messages = new object[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = Question },
                        new { type = "image_url", image_url = new { url = "data:image/png;base64," + Convert.ToBase64String("not an image"u8.ToArray()) } },
                    },
                },
            },
        });
        using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: "messages[0].content[1].image_url.url");
    }

    /// <summary>A small RGB PNG (a colour gradient), written by hand: filter 0 rows, zlib, CRC-32.</summary>
    internal static byte[] Png(int width, int height, int shade = 0)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < width; x++)
            {
                raw.WriteByte((byte)(x * 255 / width));
                raw.WriteByte((byte)(y * 255 / height));
                raw.WriteByte((byte)(((x + y) * 3) + shade));
            }
        }

        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            z.Write(raw.ToArray());
        }

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 2;
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        var crc = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
