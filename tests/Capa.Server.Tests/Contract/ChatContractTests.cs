using System.Net;
using System.Net.Http.Headers;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Contract;

/// <summary>Chat completions, their stream, the model list and error bodies, checked against OpenAI's spec.</summary>
[Collection(ServerCollection.Name)]
public sealed class ChatContractTests(ServerFixture fixture)
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    private static void RequireSpec() => Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);

    private HttpRequestMessage Authorized(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.ApiKey);
        if (json is not null)
        {
            request.Content = SseTestReader.Json(json);
        }

        return request;
    }

    [SkippableFact]
    public async Task A_chat_completion_matches_CreateChatCompletionResponse()
    {
        RequireSpec();
        using var response = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Post, "/v1/chat/completions", SseTestReader.ChatBody("local-chat", SseTestReader.Tag())), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OpenApiContract.AssertValid("CreateChatCompletionResponse", await response.Content.ReadAsStringAsync(Ct));
    }

    [SkippableFact]
    public async Task Each_streamed_chunk_matches_CreateChatCompletionStreamResponse()
    {
        RequireSpec();
        var body = SseTestReader.ChatBody("local-chat", SseTestReader.Tag(), stream: true, extra: ",\"stream_options\":{\"include_usage\":true}");
        using var response = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Post, "/v1/chat/completions", body), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = SseTestReader.DataOf(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("[DONE]", data[^1]);
        Assert.True(data.Count > 2);
        foreach (var chunk in data[..^1])
        {
            OpenApiContract.AssertValid("CreateChatCompletionStreamResponse", chunk);
        }
    }

    [SkippableFact]
    public async Task The_model_list_and_one_model_match_ListModelsResponse_and_Model()
    {
        RequireSpec();
        using var list = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Get, "/v1/models"), Ct);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        OpenApiContract.AssertValid("ListModelsResponse", await list.Content.ReadAsStringAsync(Ct));

        using var one = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Get, "/v1/models/local-chat"), Ct);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        OpenApiContract.AssertValid("Model", await one.Content.ReadAsStringAsync(Ct));
    }

    [SkippableFact]
    public async Task Error_bodies_for_400_404_and_401_match_ErrorResponse()
    {
        RequireSpec();
        using var bad = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Post, "/v1/chat/completions", """{"model":"local-chat","messages":[],"temperature":"hot"}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        OpenApiContract.AssertValid("ErrorResponse", await bad.Content.ReadAsStringAsync(Ct));

        using var missing = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Get, "/v1/models/no-such-model"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        OpenApiContract.AssertValid("ErrorResponse", await missing.Content.ReadAsStringAsync(Ct));

        using var unknown = await fixture.Server.Http.SendAsync(Authorized(HttpMethod.Post, "/v1/chat/completions", SseTestReader.ChatBody("no-such-model", "u")), Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        OpenApiContract.AssertValid("ErrorResponse", await unknown.Content.ReadAsStringAsync(Ct));

        using var anonymous = await fixture.Server.Http.GetAsync("/v1/models", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        OpenApiContract.AssertValid("ErrorResponse", await anonymous.Content.ReadAsStringAsync(Ct));
    }
}
