using System.Net;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Chat;

/// <summary>
/// A chat request with an image (or audio) goes to a model that accepts it: a local vision model, else an upstream,
/// else OpenAI's 400. Audio output is refused where no model gives it, never silently ignored.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ChatNeedsRoutingTests(ServerFixture fixture)
{
    private static string WithImage(string model, string user, string extra = "") =>
        "{\"model\":\"" + model + "\",\"user\":\"" + user + "\",\"messages\":[{\"role\":\"user\",\"content\":["
        + "{\"type\":\"text\",\"text\":\"这张图片里有什么？\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://example.com/cat.png\"}}]}]"
        + extra + "}";

    [Fact]
    public async Task AnImage_ToALocalTextModel_WithNoUpstream_IsOpenAIs400()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(WithImage("local-chat", tag)));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: "messages.[0].content.[1].type");
        Assert.Equal("Invalid content type. image_url is only supported by certain models; the model `local-chat` does not accept it.", error.GetProperty("message").GetString());
        Assert.False(fixture.Local.Calls.ContainsKey(tag));
    }

    [Fact]
    public async Task AnImage_ToABuiltInAlias_GoesToTheLocalVisionModel()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(WithImage("gpt-4-turbo", tag)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("local-vision", fixture.Local.Calls[tag].TargetModel);

        // Without an image the same alias stays on the text model.
        var textTag = SseTestReader.Tag();
        using var text = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("gpt-4-turbo", textTag)));
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Equal("local-chat", fixture.Local.Calls[textTag].TargetModel);
    }

    [Theory]
    [InlineData("gpt-4-vision-preview")]
    [InlineData("gpt-4o-mini")]
    [InlineData("gpt-4.1-mini")]
    public async Task AnImage_ToAVisionAlias_GoesToTheLocalVisionModel_TextToTheChatModel(string alias)
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(WithImage(alias, tag)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("local-vision", fixture.Local.Calls[tag].TargetModel);
        Assert.Equal(alias, fixture.Local.Calls[tag].ResponseModel);

        var textTag = SseTestReader.Tag();
        using var text = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody(alias, textTag)));
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Equal("local-chat", fixture.Local.Calls[textTag].TargetModel);
    }

    [Fact]
    public async Task AnImage_ToATextOnlyAlias_IsOpenAIs400NamingIt()
    {
        var tag = SseTestReader.Tag();
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(WithImage("gpt-3.5-turbo", tag)));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: "messages.[0].content.[1].type");
        Assert.Contains("`gpt-3.5-turbo`", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(fixture.Local.Calls.ContainsKey(tag));
    }

    [Fact]
    public async Task Models_ListsTheVisionCapabilityOfVisionAliases()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerFixture.ApiKey);
        using var response = await fixture.Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var models = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = models.RootElement.GetProperty("data").EnumerateArray().ToList();
        string[] Capabilities(string id) => [.. data.Single(m => m.GetProperty("id").GetString() == id).GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()!)];
        Assert.Contains("vision", Capabilities("gpt-4-vision-preview"));
        Assert.Contains("vision", Capabilities("local-vision"));
        Assert.DoesNotContain("vision", Capabilities("gpt-3.5-turbo"));
        Assert.DoesNotContain("vision", Capabilities("local-chat"));
    }

    [Theory]
    [InlineData(""","modalities":["text","audio"]""", "modalities")]
    [InlineData(""","audio":{"voice":"alloy","format":"wav"}""", "audio")]
    public async Task AudioOutput_FromALocalTextModel_Is400_NotIgnored(string extra, string param)
    {
        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", SseTestReader.Tag(), extra: extra)));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "unsupported_value", param);
    }

    [Fact]
    public async Task AnImage_ToALocalTextModel_GoesToAnUpstreamThatServesAnyModel()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var local = new LocalTestProvider();
        await using var server = await CapaTestServer.StartAsync(
            new CapaServerOptions
            {
                Upstreams = [new UpstreamOptions { Name = "any", BaseUrl = new Uri(upstream.BaseUrl + "/v1"), ApiKey = FakeUpstream.ApiKey, Models = ["*"] }],
            },
            builder => builder.Services.AddChatProvider(local));

        var tag = SseTestReader.Tag();
        using var response = await server.Http.SendAsync(SseTestReader.Post(WithImage("local-chat", tag), key: null));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(local.Calls.ContainsKey(tag));
        Assert.Equal("local-chat", upstream.Received[tag].Model);
        using var sent = JsonDocument.Parse(upstream.Received[tag].Body);
        Assert.Equal("image_url", sent.RootElement.GetProperty("messages")[0].GetProperty("content")[1].GetProperty("type").GetString());

        // Text alone stays local.
        var textTag = SseTestReader.Tag();
        using var text = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", textTag), key: null));
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.True(local.Calls.ContainsKey(textTag));
    }
}
