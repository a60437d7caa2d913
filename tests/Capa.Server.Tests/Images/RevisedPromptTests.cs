using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Tests.Images;

/// <summary>
/// dall-e-3's <c>revised_prompt</c> is written by the chat model behind <c>gpt-4o-mini</c>, seeded with the image's seed,
/// and is exactly what the text encoder reads.
/// </summary>
public sealed class RevisedPromptTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "capa-revise-" + Guid.NewGuid().ToString("N"));
    private readonly RevisingChat _chat = new();
    private CapaTestServer _server = null!;

    public async Task InitializeAsync()
    {
        string models = Path.Combine(_directory, "models");
        _server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models }, builder =>
        {
            builder.Services.AddSingleton<IModelProvider>(_chat);
            builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(_directory, "files") });
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<JsonElement> GenerateAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _server.Http.PostAsync("/v1/images/generations", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("data")[0].Clone();
    }

    [Fact]
    public async Task A_chinese_prompt_reaches_the_text_encoder_as_the_chat_models_english_rewrite()
    {
        JsonElement revised = await GenerateAsync("""{"model":"dall-e-3","prompt":"一只猫","response_format":"b64_json","seed":7}""");

        Assert.Equal("A tabby cat on a sunny windowsill, soft light (seed 7)", revised.GetProperty("revised_prompt").GetString());
        ChatCall call = Assert.Single(_chat.Calls);
        Assert.Equal(7, call.Request.Seed);
        Assert.Equal(ImagePromptReviser.MaxRevisionTokens, call.Request.MaxTokens);
        Assert.Equal(ChatRole.System, call.Request.Messages[0].Role);
        Assert.Equal(ImagePromptReviser.Instructions, call.Request.Messages[0].Content?.Text);
        Assert.Equal("一只猫", call.Request.Messages[1].Content?.Text);

        // The image is the one of the rewrite read as given: the encoder read the revised prompt, not 一只猫.
        JsonElement asIs = await GenerateAsync(JsonSerializer.Serialize(new
        {
            model = "dall-e-3",
            prompt = ImagePromptReviser.AsIsPrefix + " A tabby cat on a sunny windowsill, soft light (seed 7)",
            response_format = "b64_json",
            seed = 7,
        }));
        Assert.Equal("A tabby cat on a sunny windowsill, soft light (seed 7)", asIs.GetProperty("revised_prompt").GetString());
        Assert.Single(_chat.Calls);
        Assert.Equal(revised.GetProperty("b64_json").GetString(), asIs.GetProperty("b64_json").GetString());

        JsonElement raw = await GenerateAsync(JsonSerializer.Serialize(new
        {
            model = "dall-e-3",
            prompt = ImagePromptReviser.AsIsPrefix + " 一只猫",
            response_format = "b64_json",
            seed = 7,
        }));
        Assert.Equal("一只猫", raw.GetProperty("revised_prompt").GetString());
        Assert.NotEqual(revised.GetProperty("b64_json").GetString(), raw.GetProperty("b64_json").GetString());
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_revision_and_image()
    {
        const string Request = """{"model":"dall-e-3","prompt":"a red bicycle","response_format":"b64_json","seed":12}""";
        JsonElement first = await GenerateAsync(Request);
        JsonElement second = await GenerateAsync(Request);
        JsonElement other = await GenerateAsync(Request.Replace("\"seed\":12", "\"seed\":13", StringComparison.Ordinal));

        Assert.Equal(first.GetProperty("revised_prompt").GetString(), second.GetProperty("revised_prompt").GetString());
        Assert.Equal(first.GetProperty("b64_json").GetString(), second.GetProperty("b64_json").GetString());
        Assert.EndsWith("(seed 13)", other.GetProperty("revised_prompt").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_or_silent_chat_model_leaves_the_prompt_as_given()
    {
        JsonElement failed = await GenerateAsync("""{"model":"dall-e-3","prompt":"FAIL a dog","response_format":"b64_json","seed":1}""");
        JsonElement silent = await GenerateAsync("""{"model":"dall-e-3","prompt":"SILENT a dog","response_format":"b64_json","seed":1}""");

        Assert.Equal("FAIL a dog", failed.GetProperty("revised_prompt").GetString());
        Assert.Equal("SILENT a dog", silent.GetProperty("revised_prompt").GetString());
    }

    [Fact]
    public async Task Dall_e_2_is_not_revised()
    {
        JsonElement image = await GenerateAsync("""{"model":"dall-e-2","prompt":"一只猫","size":"256x256","response_format":"b64_json","seed":3}""");

        Assert.False(image.TryGetProperty("revised_prompt", out JsonElement revised) && revised.ValueKind != JsonValueKind.Null);
        Assert.Empty(_chat.Calls);
    }

    [Fact]
    public async Task The_config_files_images_object_turns_revision_off_and_sets_the_links_base()
    {
        string config = Path.Combine(_directory, "capa.json");
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(config, """{ "images": { "revise_prompts_with": "", "public_base_url": "https://images.example.com/capa/" } }""");
        string models = Path.Combine(_directory, "models-configured");
        var chat = new RevisingChat();
        await using CapaTestServer server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models, ConfigFile = config }, builder =>
        {
            builder.Services.AddSingleton<IModelProvider>(chat);
            builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(_directory, "files-configured") });
        });

        using var content = new StringContent("""{"model":"dall-e-3","prompt":"一只猫","seed":2}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await server.Http.PostAsync("/v1/images/generations", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        JsonElement image = JsonDocument.Parse(body).RootElement.GetProperty("data")[0];

        Assert.Equal("一只猫", image.GetProperty("revised_prompt").GetString());
        Assert.Empty(chat.Calls);
        Assert.StartsWith("https://images.example.com/capa/images/img_", image.GetProperty("url").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"A cat.\"\n\nHere is why: ...", "A cat.")]
    [InlineData("  A cat\non a mat  ", "A cat on a mat")]
    [InlineData("   ", "")]
    [InlineData(null, "")]
    public void The_answer_is_cleaned_to_one_paragraph(string? answer, string expected) =>
        Assert.Equal(expected, ImagePromptReviser.Clean(answer));

    /// <summary>A chat model that stands behind gpt-4o-mini and answers an English rewrite naming the seed.</summary>
    private sealed class RevisingChat : IChatProvider
    {
        public ConcurrentQueue<ChatCall> Calls { get; } = new();

        public string Name => "reviser";

        public ValueTask<IReadOnlyList<ProviderModel>> GetModelsAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<ProviderModel>>([new ProviderModel("reviser-chat", ModelCapabilities.Chat)]);

        public Task<ChatCompletionResult> CompleteAsync(ChatCall call, CancellationToken cancellationToken)
        {
            Calls.Enqueue(call);
            string prompt = call.Request.Messages[^1].Content?.Text ?? "";
            if (prompt.StartsWith("FAIL", StringComparison.Ordinal))
            {
                throw new ChatProviderException(ApiError.Overloaded());
            }

            string answer = prompt.StartsWith("SILENT", StringComparison.Ordinal) ? "  "
                : prompt == "一只猫" ? $"\"A tabby cat on a sunny windowsill, soft light (seed {call.Request.Seed})\""
                : $"A detailed picture of {prompt} (seed {call.Request.Seed})";
            return Task.FromResult(ChatCompletionResult.FromResponse(new ChatCompletionResponse
            {
                Id = ChatIds.NewCompletionId(),
                Created = 1_700_000_001,
                Model = call.ResponseModel,
                Choices = [new ChatChoice { Index = 0, Message = new ChatResponseMessage { Content = answer }, FinishReason = "stop" }],
                Usage = CompletionUsage.Create(10, 10),
            }));
        }

        public IAsyncEnumerable<ChatStreamEvent> StreamAsync(ChatCall call, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The reviser asks without streaming.");
    }
}
