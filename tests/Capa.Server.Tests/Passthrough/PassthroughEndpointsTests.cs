using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Passthrough;

/// <summary>
/// OpenAI areas with no local engine: forwarded to the upstream unchanged (key replaced, alias rewritten), or a 501 in
/// OpenAI's shape naming the capability when no upstream is configured.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PassthroughEndpointsTests(ServerFixture fixture)
{
    private HttpClient Http => fixture.Server.Http;

    [Fact]
    public async Task ImageGeneration_GoesUpstream_WithTheUpstreamsKey_AndTheAliasRewritten()
    {
        using var request = Authorized(HttpMethod.Post, "/v1/images/generations?trace=1");
        request.Content = new StringContent("""{"model":"gpt-4o","prompt":"一只猫","size":"1024x1024","n":1}""", Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("POST", echo.GetProperty("method").GetString());
        Assert.Equal("/v1/images/generations", echo.GetProperty("path").GetString());
        Assert.Equal("?trace=1", echo.GetProperty("query").GetString());
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, echo.GetProperty("authorization").GetString());
        var sent = JsonDocument.Parse(Convert.FromBase64String(echo.GetProperty("body").GetString()!)).RootElement;
        Assert.Equal("fake-model", sent.GetProperty("model").GetString());
        Assert.Equal("一只猫", sent.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task A_streamed_image_generation_from_the_upstream_reaches_the_client_event_by_event()
    {
        using var request = Authorized(HttpMethod.Post, "/v1/images/generations");
        request.Content = new StringContent("""{"model":"gpt-4o","prompt":"一只猫","stream":true,"partial_images":1}""", Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The first event arrives while the upstream still holds the last one back.
        string? first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("event: image_generation.partial_image", first);
        fixture.Upstream.FirstImageEventRead.TrySetResult();

        string rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("event: image_generation.completed", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("event: error", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_for_a_model_no_local_encoder_serves_go_upstream_unchanged()
    {
        using var request = Authorized(HttpMethod.Post, "/v1/embeddings");
        request.Content = new StringContent("""{"model":"upstream-embedder","input":["一只猫","a cat"],"encoding_format":"base64"}""", Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("/v1/embeddings", echo.GetProperty("path").GetString());
        var sent = JsonDocument.Parse(Convert.FromBase64String(echo.GetProperty("body").GetString()!)).RootElement;
        Assert.Equal("一只猫", sent.GetProperty("input")[0].GetString());
        Assert.Equal("base64", sent.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task MultipartUpload_GoesUpstream_ByteForByte()
    {
        var file = new byte[70_000];
        new Random(7).NextBytes(file);
        using var form = new MultipartFormDataContent("capa-boundary");
        form.Add(new StringContent("assistants"), "purpose");
        form.Add(new ByteArrayContent(file) { Headers = { ContentType = new MediaTypeHeaderValue("application/octet-stream") } }, "file", "notes.bin");
        var sentBytes = await form.ReadAsByteArrayAsync();

        using var request = Authorized(HttpMethod.Post, "/v1/uploads");
        request.Content = new ByteArrayContent(sentBytes);
        request.Content.Headers.ContentType = form.Headers.ContentType;
        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(sentBytes, Convert.FromBase64String(echo.GetProperty("body").GetString()!));
        Assert.StartsWith("multipart/form-data", echo.GetProperty("content_type").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamStatus_ComesBackUnchanged()
    {
        using var request = Authorized(HttpMethod.Get, "/v1/containers/teapot");
        using var response = await Http.SendAsync(request);
        Assert.Equal((HttpStatusCode)418, response.StatusCode);
    }

    [Fact]
    public async Task WithoutAKey_TheRequestIsRefused_AndNothingGoesUpstream()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/files");
        using var response = await Http.SendAsync(request);
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task WithoutAnUpstream_EachArea_Is501_NamingTheCapability_AndTheServerKeepsServing()
    {
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), builder => builder.Services.AddChatProvider(new LocalTestProvider()));
        foreach (var (method, path, capability) in new[]
        {
            ("POST", "/v1/images/generations", "Image generation"),
            ("POST", "/v1/moderations", "Moderations"),
            ("POST", "/v1/uploads", "Uploads"),
            ("GET", "/v1/batches", "Batches"),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = new StringContent("""{"model":"dall-e-3","prompt":"一只猫"}""", Encoding.UTF8, "application/json");
            }

            using var response = await server.Http.SendAsync(request);
            var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.NotImplemented, "not_implemented");
            var message = error.GetProperty("message").GetString()!;
            Assert.StartsWith(capability, message, StringComparison.Ordinal);
            Assert.Contains("upstream", message, StringComparison.Ordinal);
        }

        using var chat = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", SseTestReader.Tag()), key: null));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    private static HttpRequestMessage Authorized(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.ApiKey);
        return request;
    }
}
