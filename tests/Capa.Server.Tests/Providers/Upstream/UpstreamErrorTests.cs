using System.Net;
using System.Text;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Providers.Upstream;

/// <summary>Upstream failures: status and body passed through, transport failures as clean 502/504, cancellation.</summary>
[Collection(ServerCollection.Name)]
public sealed class UpstreamErrorTests(ServerFixture fixture)
{
    private HttpClient Http => fixture.Server.Http;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upstream4xx_ComesBackWithItsStatusAndBody(bool stream)
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-400", SseTestReader.Tag(), stream)));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadRequest, "upstream_says_no", "temperature");
        Assert.Equal(FakeUpstream.ErrorBody400, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Upstream503_ComesBackWithRetryAfter()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-503", SseTestReader.Tag())));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upstream500_WithoutJson_BecomesAnOpenAIError_WithoutItsText(bool stream)
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-500-text", SseTestReader.Tag(), stream)));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("/srv/secret", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UpstreamTimeout_Is504_AndTheUpstreamSeesTheCancellation(bool stream)
    {
        var tag = SseTestReader.Tag();
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-slow", tag, stream)));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.GatewayTimeout, "timeout");
        await fixture.Upstream.Aborted(tag).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnreachableUpstream_Is502(bool stream)
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-down", SseTestReader.Tag(), stream)));
        var error = await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadGateway);
        Assert.DoesNotContain(fixture.ClosedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamSilentMidStream_EndsTheStreamWithAnErrorEvent_AndNoDone()
    {
        var tag = SseTestReader.Tag();
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-stall", tag, stream: true)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = SseTestReader.DataOf(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, events.Count);
        Assert.StartsWith("{\"id\":", events[0], StringComparison.Ordinal);
        var error = ErrorAssert.Shape(events[1]);
        Assert.Equal("timeout", error.GetProperty("code").GetString());
        await fixture.Upstream.Aborted(tag).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task UpstreamAnsweringJsonToAStreamRequest_Is502()
    {
        using var response = await Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("upstream-ignores-stream", SseTestReader.Tag(), stream: true)));
        await ErrorAssert.IsOpenAIErrorAsync(response, HttpStatusCode.BadGateway);
    }

    [Fact]
    public async Task ClientDisconnectMidStream_CancelsTheUpstreamRequest()
    {
        var tag = SseTestReader.Tag();
        using var cts = new CancellationTokenSource();
        using (var response = await Http.SendAsync(
            SseTestReader.Post(SseTestReader.ChatBody("upstream-hang-stream", tag, stream: true)),
            HttpCompletionOption.ResponseHeadersRead,
            cts.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            var buffer = new byte[4096];
            var first = new StringBuilder();
            while (!first.ToString().Contains("\n\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, cts.Token);
                Assert.NotEqual(0, read);
                first.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }

            Assert.StartsWith("data: {", first.ToString(), StringComparison.Ordinal);
            Assert.False(fixture.Upstream.Aborted(tag).IsCompleted);
            await cts.CancelAsync();
        }

        await fixture.Upstream.Aborted(tag).WaitAsync(TimeSpan.FromSeconds(30));
        using var health = await Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
