using System.ClientModel;
using System.Net;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Chat;

namespace Capa.Server.Tests.Auth;

[Collection(ServerCollection.Name)]
public sealed class ApiKeyMiddlewareTests(ServerFixture fixture)
{
    private static readonly ChatMessage[] Hello = [new UserChatMessage("Hi")];

    [Fact]
    public async Task RightKey_IsAccepted()
    {
        ChatCompletion completion = await fixture.Chat("local-chat").CompleteChatAsync(Hello);
        Assert.Equal("local answer", completion.Content[0].Text);
    }

    [Fact]
    public async Task WrongKey_Is401_InvalidApiKey()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => fixture.Chat("local-chat", "sk-wrong-key-000000").CompleteChatAsync(Hello));
        Assert.Equal(401, error.Status);

        using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), key: "sk-wrong-key-000000"));
        var body = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_api_key");
        Assert.DoesNotContain("sk-wrong-key-000000", body.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData(ServerFixture.ApiKey)]
    public async Task MissingOrMalformedKey_Is401(string? authorization)
    {
        using var request = SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), key: null);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await fixture.Server.Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task KeyPrefixOrExtension_IsRejected()
    {
        foreach (var key in new[] { ServerFixture.ApiKey[..^1], ServerFixture.ApiKey + "0", ServerFixture.ApiKey.ToUpperInvariant() })
        {
            using var response = await fixture.Server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), key: key));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Models_NeedAKey()
    {
        using var response = await fixture.Server.Http.GetAsync("/v1/models");
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Health_NeedsNoKey()
    {
        using var response = await fixture.Server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"status\":\"ok\"}", await response.Content.ReadAsStringAsync());
    }
}
