using System.ClientModel;
using System.Net;
using System.Text;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Chat;

namespace Capa.Server.Tests.Chat;

/// <summary>Every error status the server produces, each in OpenAI's shape.</summary>
[Collection(ServerCollection.Name)]
public sealed class ErrorResponseTests(ServerFixture fixture)
{
    private static readonly ChatMessage[] Hello = [new UserChatMessage("Hi")];

    private HttpClient Http => fixture.Server.Http;

    [Fact]
    public async Task InvalidParameter_Is400_NamingTheParam()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u", extra: ",\"temperature\":5")));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, param: "temperature");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task InvalidParameter_ThroughTheSdk_Is400()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            fixture.Chat("local-chat").CompleteChatAsync(Hello, new ChatCompletionOptions { TopLogProbabilityCount = 5 }));
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task MalformedJson_Is400()
    {
        using var response = await Http.SendAsync(SseTestReader.Post("{\"model\":"));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task UnknownModel_Is404_ModelNotFound()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("no-such-model", "u")));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
        Assert.Equal("The model `no-such-model` does not exist or you do not have access to it.", error.GetProperty("message").GetString());

        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat("no-such-model").CompleteChatAsync(Hello));
        Assert.Equal(404, sdk.Status);
    }

    [Fact]
    public async Task UnknownModel_Stream_Is404BeforeAnyEvent()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("no-such-model", "u", stream: true)));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound, "model_not_found");
    }

    [Theory]
    [InlineData("GET", "/v1/nope")]
    [InlineData("POST", "/v1/completions/extra")]
    [InlineData("GET", "/v2")]
    [InlineData("DELETE", "/v2/chat/completions")]
    public async Task UnknownUrl_Is404_InvalidUrl(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("Invalid URL", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("PUT", "/v1/chat/completions")]
    [InlineData("POST", "/v1/models")]
    [InlineData("DELETE", "/health")]
    public async Task WrongMethod_Is405(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task BodyOverTheLimit_WithContentLength_Is413()
    {
        var body = SseTestReader.ChatBody("local-chat", "u", extra: $",\"pad\":\"{new string('x', (int)ServerFixture.MaxBodyBytes)}\"");
        using var response = await Http.SendAsync(SseTestReader.Post(body));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task BodyOverTheLimit_Chunked_Is413()
    {
        var body = Encoding.UTF8.GetBytes(SseTestReader.ChatBody("local-chat", "u", extra: $",\"pad\":\"{new string('x', (int)ServerFixture.MaxBodyBytes * 4)}\""));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StreamContent(new MemoryStream(body)) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task BodyJustUnderTheLimit_Chunked_IsAccepted()
    {
        var prefix = SseTestReader.ChatBody("local-chat", "u", extra: ",\"pad\":\"");
        var padding = (int)ServerFixture.MaxBodyBytes - prefix.Length - 2;
        var body = Encoding.UTF8.GetBytes(prefix + new string('x', padding) + "\"}");
        Assert.Equal(ServerFixture.MaxBodyBytes, body.Length);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StreamContent(new MemoryStream(body)) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/jsonx")]
    public async Task NonJsonContentType_Is415(string contentType)
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), contentType: contentType));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task MissingContentType_Is415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(SseTestReader.ChatBody("local-chat", "u"))),
        };
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=UTF-8")]
    [InlineData("application/json")]
    public async Task JsonContentType_WithCharset_IsAccepted(string contentType)
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), contentType: contentType));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ProviderCrash_Is500_WithoutInternals()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-crash", "u")));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.InternalServerError);
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        var text = error.ToString();
        Assert.DoesNotContain(LocalTestProvider.CrashSecret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);

        // The server keeps serving.
        using var health = await Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task ProviderCrash_Stream_Is500_WithoutInternals()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-crash", "u", stream: true)));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain(LocalTestProvider.CrashSecret, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderErrorMidStream_IsAnErrorEvent_WithoutDone()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-fail-mid", "u", stream: true)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = SseTestReader.DataOf(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, events.Count);
        Assert.Equal("overloaded", ErrorAssert.Shape(events[1]).GetProperty("code").GetString());
    }

    [Fact]
    public async Task WrongMethod_SaysWhichMethodsAreAllowed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/chat/completions");
        request.Headers.Add("Authorization", "Bearer " + ServerFixture.ApiKey);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public async Task EveryResponse_HasItsOwnRequestId()
    {
        using var a = await Http.GetAsync("/health");
        using var b = await Http.GetAsync("/v1/nope");
        using var c = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), key: null));
        var ids = new[] { a, b, c }.Select(r => r.Headers.GetValues("x-request-id").Single()).ToArray();
        Assert.All(ids, id => Assert.Matches("^req_[0-9a-f]{32}$", id));
        Assert.Equal(3, ids.Distinct().Count());
    }
}
