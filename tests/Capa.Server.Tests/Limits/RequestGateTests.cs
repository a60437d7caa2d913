using System.Net;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Limits;

/// <summary>A server with one slot and no queue: a second request while the first runs is refused with 429.</summary>
public sealed class RequestGateTests
{
    [Fact]
    public async Task QueueFull_Is429_WithRetryAfter_AndTheSlotFreesWhenTheFirstEnds()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions
        {
            MaxConcurrentRequests = 1,
            RequestQueueLength = 0,
            RetryAfterSeconds = 3,
            Upstreams = [new UpstreamOptions { Name = "fake", BaseUrl = new Uri(upstream.BaseUrl + "/v1"), Models = ["*"] }],
        });

        var tag = SseTestReader.Tag();
        using var cts = new CancellationTokenSource();
        var first = await server.Http.SendAsync(
            SseTestReader.Post(SseTestReader.ChatBody("upstream-hang-stream", tag, stream: true)),
            HttpCompletionOption.ResponseHeadersRead,
            cts.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await upstream.Started(tag).WaitAsync(TimeSpan.FromSeconds(30));

        using (var second = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("fake-model", SseTestReader.Tag()))))
        {
            await ErrorAssert.IsOpenAIErrorAsync(second, HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
            Assert.Equal(TimeSpan.FromSeconds(3), second.Headers.RetryAfter?.Delta);
        }

        // Health and model listing are not gated.
        using (var health = await server.Http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await cts.CancelAsync();
        first.Dispose();
        await upstream.Aborted(tag).WaitAsync(TimeSpan.FromSeconds(30));

        // The slot is released when the aborted request unwinds; bounded retries wait for that.
        HttpStatusCode status = HttpStatusCode.TooManyRequests;
        for (var attempt = 0; attempt < 200 && status == HttpStatusCode.TooManyRequests; attempt++)
        {
            using var third = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("fake-model", SseTestReader.Tag())));
            status = third.StatusCode;
            if (status == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(50);
            }
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }
}
