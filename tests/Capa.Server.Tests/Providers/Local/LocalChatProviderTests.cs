using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Engine.Text.Generation;
using Capa.Protocol;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Capa.Server.Tests.Providers.Local;

/// <summary>The local provider on a fresh (empty) store: capa-tiny is created and answers through the real server and SDK.</summary>
public sealed class LocalChatProviderTests : IAsyncLifetime
{
    private const string SeedQuestion = "火星上有生命吗？";
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-local-provider-" + Guid.NewGuid().ToString("N"));
    private LocalChatProvider _provider = null!;
    private CapaTestServer _server = null!;
    private string? _banner;

    public async Task InitializeAsync()
    {
        _provider = new LocalChatProvider(new LocalProviderOptions
        {
            ModelsDirectory = _models,
            CacheDirectory = _models + ".cache",
            Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 }, Scheduler = new GenerationSchedulerOptions { MaxConcurrentRequests = 2, MaxQueuedRequests = 0, RetryAfter = TimeSpan.FromSeconds(3) } },
        });
        _banner = _provider.PrepareStore();
        _server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddChatProvider(_provider));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _provider.Dispose();
        foreach (var directory in new[] { _models, _models + ".cache" })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private ChatClient Chat(string model) => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(_server.BaseUrl + "/v1"),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    }).GetChatClient(model);

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(object body)
    {
        var response = await _server.Http.PostAsync("/v1/chat/completions", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    [Fact]
    public async Task FreshStore_ServesCapaTiny_WithABanner_AndAModelCard()
    {
        Assert.NotNull(_banner);
        Assert.Contains("RANDOM weights", _banner, StringComparison.Ordinal);
        Assert.Contains("capa pull onnx-community/Qwen2.5-0.5B-Instruct", _banner, StringComparison.Ordinal);
        Assert.True(_provider.ServesTinyModel);
        var card = File.ReadAllText(Path.Combine(_models + ".cache", "capa-tiny", "README.md"));
        Assert.False(Directory.Exists(_models), "capa-tiny is written in Capa's cache, not in the models folder");
        Assert.Contains("random weights", card, StringComparison.Ordinal);
        var models = await _provider.GetModelsAsync(CancellationToken.None);
        Assert.Equal(CapaTiny.ModelId, Assert.Single(models).Id);
        var listed = await _server.Http.GetStringAsync("/v1/models");
        Assert.Contains("\"capa-tiny\"", listed, StringComparison.Ordinal);
        Assert.Contains("\"gpt-4-1106-preview\"", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedChatExample_ThroughTheSdk_NonStreamedAndStreamed_ViaTheAlias()
    {
        var chat = Chat("gpt-4-1106-preview");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 24, Temperature = 0.7f };
#pragma warning disable OPENAI001
        options.Seed = 123;
#pragma warning restore OPENAI001
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("You are a helpful assistant."), new UserChatMessage(SeedQuestion)], options);
        Assert.Equal("gpt-4-1106-preview", completion.Model);
        Assert.Matches("^fp_[0-9a-f]{10}$", completion.SystemFingerprint);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 24);
        Assert.True(completion.Usage.InputTokenCount > 5);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);

        var streamed = new StringBuilder();
        string? fingerprint = null;
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new SystemChatMessage("You are a helpful assistant."), new UserChatMessage(SeedQuestion)], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            fingerprint ??= update.SystemFingerprint;
            finish ??= update.FinishReason;
        }

        Assert.Equal(completion.Content.Count == 0 ? string.Empty : completion.Content[0].Text, streamed.ToString());
        Assert.Equal(completion.SystemFingerprint, fingerprint);
        Assert.Equal(completion.FinishReason, finish);
    }

    [Fact]
    public async Task Seed_IsReturnedInTheHeader_AndReplays()
    {
        var request = new { model = "capa-tiny", messages = new[] { new { role = "user", content = "Tell me a story." } }, max_tokens = 16, temperature = 1.0 };
        var first = await PostAsync(request);
        var second = await PostAsync(request);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var seed1 = long.Parse(first.Response.Headers.GetValues("x-capa-seed").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var seed2 = long.Parse(second.Response.Headers.GetValues("x-capa-seed").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(seed1, seed2);
        string Content(JsonElement body) => body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        var replay = await PostAsync(new { model = "capa-tiny", messages = new[] { new { role = "user", content = "Tell me a story." } }, max_tokens = 16, temperature = 1.0, seed = seed1 });
        Assert.Equal(Content(first.Body), Content(replay.Body));
        Assert.Equal(seed1.ToString(System.Globalization.CultureInfo.InvariantCulture), replay.Response.Headers.GetValues("x-capa-seed").Single());
    }

    [Fact]
    public async Task NChoices_Logprobs_AndStop_MapOntoTheResponse()
    {
        var (status, body, _) = await PostAsync(new
        {
            model = "capa-tiny",
            messages = new[] { new { role = "user", content = "Hi" } },
            max_tokens = 8,
            n = 3,
            seed = 5,
            logprobs = true,
            top_logprobs = 2,
        });
        Assert.Equal(HttpStatusCode.OK, status);
        var choices = body.GetProperty("choices");
        Assert.Equal(3, choices.GetArrayLength());
        var completion = 0;
        for (var i = 0; i < 3; i++)
        {
            var choice = choices[i];
            Assert.Equal(i, choice.GetProperty("index").GetInt32());
            var content = choice.GetProperty("logprobs").GetProperty("content");
            Assert.True(content.GetArrayLength() is > 0 and <= 8);
            foreach (var token in content.EnumerateArray())
            {
                Assert.True(token.GetProperty("logprob").GetDouble() <= 0);
                Assert.Equal(2, token.GetProperty("top_logprobs").GetArrayLength());
                Assert.True(token.GetProperty("bytes").GetArrayLength() > 0);
            }

            completion += choice.GetProperty("finish_reason").GetString() == "length" ? 8 : content.GetArrayLength() + 1;
        }

        Assert.Equal(completion, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task MaxTokensFarBeyondTheContext_IsOpenAIs400_WithItsMessage()
    {
        var supported = _provider.GetModel("capa-tiny")!.MaxContextLength - 1;

        var (status, body, _) = await PostAsync(new { model = "capa-tiny", max_tokens = 1_000_000_000, messages = new[] { new { role = "user", content = "Hi" } } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal(
            $"max_tokens is too large: 1000000000. This model supports at most {supported} completion tokens, whereas you provided 1000000000.",
            error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("max_tokens", error.GetProperty("param").GetString());
        Assert.Equal("invalid_value", error.GetProperty("code").GetString());

        // The SDK sends max_completion_tokens: the error names that parameter.
        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => Chat("capa-tiny").CompleteChatAsync(
            [new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = supported + 1 }));
        Assert.Equal(400, sdk.Status);
        Assert.Contains($"max_completion_tokens is too large: {supported + 1}. This model supports at most {supported} completion tokens", sdk.Message, StringComparison.Ordinal);

        // The largest budget the model supports is accepted (and ends where the context does).
        var (accepted, _, _) = await PostAsync(new { model = "capa-tiny", max_tokens = supported, messages = new[] { new { role = "user", content = "Hi" } }, stop = new[] { "a", "e", "o", " " } });
        Assert.Equal(HttpStatusCode.OK, accepted);
    }

    [Fact]
    public async Task ContextOverflow_IsOpenAIs400()
    {
        var (status, body, _) = await PostAsync(new { model = "capa-tiny", messages = new[] { new { role = "user", content = string.Join(' ', Enumerable.Repeat("mars", 40_000)) } } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.StartsWith("This model's maximum context length is ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogitBias_OutsideTheVocabulary_Is400()
    {
        var (status, body, _) = await PostAsync(new { model = "capa-tiny", messages = new[] { new { role = "user", content = "Hi" } }, logit_bias = new Dictionary<string, int> { ["99999999"] = 5 } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("logit_bias", body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task LogitBias_Plus100_ForcesTheToken()
    {
        var model = _provider.GetModel(CapaTiny.ModelId)!;
        var id = model.Tokenizer.Encode("Mars", false)[0];
        var (status, body, _) = await PostAsync(new { model = "capa-tiny", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 4, logit_bias = new Dictionary<string, int> { [id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 100 } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(string.Concat(Enumerable.Repeat(model.Tokenizer.Tokenizer.Decode([id]), 4)), body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task FullQueue_Is429WithRetryAfter()
    {
        var call = new ChatCall
        {
            Request = new ChatCompletionRequest { Model = "capa-tiny", Messages = [new Capa.Protocol.ChatMessage { Role = Capa.Protocol.ChatRole.User, Content = "Hi" }], MaxTokens = 2000 },
            Body = default,
            TargetModel = CapaTiny.ModelId,
            ResponseModel = CapaTiny.ModelId,
            RequestId = "test",
        };
        using var cts = new CancellationTokenSource();
        var running = new List<IAsyncEnumerator<ChatStreamEvent>>();
        for (var i = 0; i < 2; i++)
        {
            var e = _provider.StreamAsync(call, cts.Token).GetAsyncEnumerator(cts.Token);
            Assert.True(await e.MoveNextAsync());
            running.Add(e);
        }

        var ex = await Assert.ThrowsAsync<ChatProviderException>(() => _provider.CompleteAsync(call, CancellationToken.None));
        Assert.Equal(429, ex.Error.Status);
        Assert.Equal(3, ex.Error.RetryAfterSeconds);
        await cts.CancelAsync();
        foreach (var e in running)
        {
            await e.DisposeAsync();
        }

        var model = _provider.GetModel(CapaTiny.ModelId)!;
        for (var i = 0; i < 200 && model.Engine.Scheduler.Admitted > 0; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal(0, model.Engine.Scheduler.Admitted);
    }

    [Fact]
    public async Task ImageParts_AreRefusedForATextModel()
    {
        var (status, body, _) = await PostAsync(new
        {
            model = "capa-tiny",
            messages = new object[] { new { role = "user", content = new object[] { new { type = "image_url", image_url = new { url = "data:image/png;base64,AAAA" } } } } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        // OpenAI's own text for a content part the model cannot read (the router answers it before the provider runs).
        Assert.Equal("Invalid content type. image_url is only supported by certain models; the model `capa-tiny` does not accept it.", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ToolsAndToolCallMessages_ReachTheChatTemplate()
    {
        var plain = await PostAsync(new { model = "capa-tiny", messages = new[] { new { role = "user", content = "Weather in Paris?" } }, max_tokens = 1 });
        var withTools = await PostAsync(new
        {
            model = "capa-tiny",
            max_tokens = 1,
            tools = new[] { new { type = "function", function = new { name = "get_weather", description = "Current weather", parameters = new { type = "object", properties = new { city = new { type = "string" } } } } } },
            messages = new object[]
            {
                new { role = "developer", content = "Be brief." },
                new { role = "user", content = "Weather in Paris?" },
                new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = "{\"city\":\"Paris\"}" } } } },
                new { role = "tool", tool_call_id = "call_1", content = "18°C, sunny" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, plain.Status);
        Assert.Equal(HttpStatusCode.OK, withTools.Status);
        var model = _provider.GetModel(CapaTiny.ModelId)!;
        var rendered = model.RenderPrompt(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?>
            {
                new Dictionary<string, object?> { ["role"] = "user", ["content"] = "Weather in Paris?" },
            },
            ["tools"] = new List<object?> { new Dictionary<string, object?> { ["type"] = "function", ["function"] = new Dictionary<string, object?> { ["name"] = "get_weather" } } },
        });
        Assert.Contains("get_weather", rendered.Text, StringComparison.Ordinal);
        var toolTokens = withTools.Body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        var plainTokens = plain.Body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        Assert.True(toolTokens > plainTokens + 20, $"{toolTokens} vs {plainTokens}");
    }
}
