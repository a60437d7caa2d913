using System.Net;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Hosting;

public sealed class RequestLoggingTests
{
    [Fact]
    public async Task RequestsAreLoggedWithTheirIds_WithoutKeysOrBodies()
    {
        const string key = "sk-log-secret-key-123456";
        const string wrongKey = "sk-wrong-secret-key-987654";
        const string bodySecret = "BODY-SECRET-MARKER";
        var logs = new CapturingLoggerProvider();
        await using var server = await CapaTestServer.StartAsync(
            new CapaServerOptions { ApiKeys = [key] },
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.SetMinimumLevel(LogLevel.Trace);
                builder.Services.AddChatProvider(new LocalTestProvider());
            });

        var ids = new List<string>();
        foreach (var (model, sentKey) in new[] { ("local-chat", key), ("local-chat", wrongKey), ("local-crash", key), ("missing", key) })
        {
            using var response = await server.Http.SendAsync(SseTestReader.Post(
                SseTestReader.ChatBody(model, bodySecret, extra: $",\"messages2\":\"{bodySecret}\""), key: sentKey));
            Assert.Equal(model == "local-chat" && sentKey == key, response.StatusCode == HttpStatusCode.OK);
            ids.Add(response.Headers.GetValues("x-request-id").Single());
        }

        // The outcome is logged after the response is sent: wait for it, boundedly.
        for (var i = 0; i < 200 && !ids.All(id => logs.Lines.Any(l => l.Contains(id, StringComparison.Ordinal) && l.Contains("->", StringComparison.Ordinal))); i++)
        {
            await Task.Delay(25);
        }

        var all = string.Join("\n", logs.Lines);
        foreach (var id in ids)
        {
            Assert.Contains(logs.Lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("/v1/chat/completions", StringComparison.Ordinal));
        }

        Assert.DoesNotContain(key, all, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, all, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey[..12], all, StringComparison.Ordinal);
        Assert.DoesNotContain(bodySecret, all, StringComparison.Ordinal);

        // The crash is logged (with its exception, for operators) but never sent to the client.
        Assert.Contains(LocalTestProvider.CrashSecret, all, StringComparison.Ordinal);
    }
}
