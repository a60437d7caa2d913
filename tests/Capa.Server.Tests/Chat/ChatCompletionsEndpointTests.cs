using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Chat;

namespace Capa.Server.Tests.Chat;

[Collection(ServerCollection.Name)]
public sealed class ChatCompletionsEndpointTests(ServerFixture fixture)
{
    private static readonly ChatMessage[] Hello = [new UserChatMessage("Hi")];

    [Fact]
    public async Task LocalProvider_NonStream_ThroughTheSdk()
    {
        var tag = SseTestReader.Tag();
        ChatCompletion completion = await fixture.Chat("local-chat").CompleteChatAsync(Hello, new ChatCompletionOptions { EndUserId = tag });

        Assert.Equal("local answer", completion.Content[0].Text);
        Assert.Equal("local-chat", completion.Model);
        Assert.Equal("fp_local", completion.SystemFingerprint);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(6, completion.Usage.TotalTokenCount);
        Assert.Equal("local-chat", fixture.Local.Calls[tag].TargetModel);
    }

    [Fact]
    public async Task LocalProvider_Stream_ThroughTheSdk_EndsWithUsage()
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        var updates = 0;
        await foreach (var update in fixture.Chat("local-chat").CompleteChatStreamingAsync(Hello))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal("local answer", text.ToString());
        Assert.True(updates >= 4);
        Assert.NotNull(usage);
        Assert.Equal(6, usage.TotalTokenCount);
    }

    [Fact]
    public async Task Stream_IsServerSentEvents_WithUsageChunkBeforeDone()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(
            SseTestReader.ChatBody("local-chat", tag, stream: true, extra: ",\"stream_options\":{\"include_usage\":true}")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("x-request-id"));
        var events = SseTestReader.DataOf(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1]);
        using var usage = JsonDocument.Parse(events[^2]);
        Assert.Equal(0, usage.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(6, usage.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var ids = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("id").GetString()).Distinct();
        Assert.Single(ids);
    }

    [Fact]
    public async Task Upstream_NonStream_ForwardsTheBodyUnchanged_WithTheUpstreamKey()
    {
        var tag = SseTestReader.Tag();
        var body = SseTestReader.ChatBody("fake-model", tag, extra: ",\"temperature\":0.5,\"x_unknown_field\":{\"kept\":true}");
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeUpstream.Completion("fake-model"), await response.Content.ReadAsStringAsync());
        var received = fixture.Upstream.Received[tag];
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, received.Authorization);
        Assert.Equal(body, received.BodyText);
    }

    [Fact]
    public async Task Upstream_NonStream_ThroughTheSdk()
    {
        var tag = SseTestReader.Tag();
        ChatCompletion completion = await fixture.Chat("fake-model").CompleteChatAsync(Hello, new ChatCompletionOptions { EndUserId = tag });

        Assert.Equal("Hello from upstream", completion.Content[0].Text);
        Assert.Equal("fake-model", completion.Model);
        Assert.Equal("fp_upstream", completion.SystemFingerprint);
        Assert.DoesNotContain(ServerFixture.ApiKey, fixture.Upstream.Received[tag].Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_Stream_PassesEveryEventThroughExactly()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(
            SseTestReader.ChatBody("fake-model", tag, stream: true, extra: ",\"stream_options\":{\"include_usage\":true}")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = SseTestReader.DataOf(await response.Content.ReadAsStringAsync());
        Assert.Equal([.. fixture.Upstream.Received[tag].SentEvents, "[DONE]"], events);
        Assert.Equal(5, events.Count - 1);
    }

    [Fact]
    public async Task Upstream_Stream_ThroughTheSdk_WithUsage()
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in fixture.Chat("fake-model").CompleteChatStreamingAsync(Hello))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage ??= update.Usage;
        }

        Assert.Equal("Hello world", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(7, usage.TotalTokenCount);
    }

    [Fact]
    public async Task ConfiguredAlias_RewritesTheModelForTheUpstream_AndEchoesTheRequestedId()
    {
        var tag = SseTestReader.Tag();
        ChatCompletion completion = await fixture.Chat("gpt-4o").CompleteChatAsync(Hello, new ChatCompletionOptions { EndUserId = tag });

        Assert.Equal("gpt-4o", completion.Model);
        Assert.Equal("fake-model", fixture.Upstream.Received[tag].Model);
        using var sent = JsonDocument.Parse(fixture.Upstream.Received[tag].Body);
        Assert.Equal(tag, sent.RootElement.GetProperty("user").GetString());
    }

    [Fact]
    public async Task ConfiguredAlias_Stream_EchoesTheRequestedIdInEveryChunk()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("gpt-4o", tag, stream: true)));

        var events = SseTestReader.DataOf(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(4, events.Count - 1);
        foreach (var data in events.SkipLast(1))
        {
            using var chunk = JsonDocument.Parse(data);
            Assert.Equal("gpt-4o", chunk.RootElement.GetProperty("model").GetString());
        }

        Assert.Equal("fake-model", fixture.Upstream.Received[tag].Model);
    }

    [Theory]
    [InlineData("gpt-4-1106-preview", "local-chat")]
    [InlineData("gpt-3.5-turbo-1106", "local-chat")]
    [InlineData("gpt-4-vision-preview", "local-chat")]
    public async Task BuiltInAlias_ResolvesToALocalModelWithTheCapability(string alias, string local)
    {
        var tag = SseTestReader.Tag();
        ChatCompletion completion = await fixture.Chat(alias).CompleteChatAsync(Hello, new ChatCompletionOptions { EndUserId = tag });

        Assert.Equal(alias, completion.Model);
        Assert.Equal(local, fixture.Local.Calls[tag].TargetModel);
        Assert.Equal(alias, fixture.Local.Calls[tag].ResponseModel);
    }

    [Fact]
    public async Task BuiltInAlias_WithoutAModelOfItsCapability_Is404()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat("whisper-1").CompleteChatAsync(Hello));
        Assert.Equal(404, error.Status);
    }

    [Fact]
    public async Task ModelWithoutChat_Is400()
    {
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("dall-e-3", SseTestReader.Tag())));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "model_not_supported", "model");
    }

    [Theory]
    [InlineData(false, "", "4242")]
    [InlineData(true, "", "4242")]
    [InlineData(false, ",\"seed\":77", "77")]
    [InlineData(true, ",\"seed\":-5", "-5")]
    public async Task SeedUsed_IsInTheResponseHeader(bool stream, string extra, string expected)
    {
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", SseTestReader.Tag(), stream, extra)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Headers.GetValues("x-capa-seed").Single());
    }

    [Fact]
    public async Task Upstream_RequestSeed_IsInTheResponseHeader()
    {
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("fake-model", SseTestReader.Tag(), extra: ",\"seed\":9")));
        Assert.Equal("9", response.Headers.GetValues("x-capa-seed").Single());
        using var unseeded = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("fake-model", SseTestReader.Tag())));
        Assert.False(unseeded.Headers.Contains("x-capa-seed"));
    }

    [Fact]
    public async Task ModelIdWithSlash_IsServed()
    {
        ChatCompletion completion = await fixture.Chat("onnx-community/Qwen2.5-0.5B-Instruct").CompleteChatAsync(Hello);
        Assert.Equal("onnx-community/Qwen2.5-0.5B-Instruct", completion.Model);
    }
}
