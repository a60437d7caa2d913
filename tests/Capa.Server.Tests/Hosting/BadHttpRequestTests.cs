using System.Text;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Hosting;

/// <summary>
/// Requests that Kestrel refuses while the application reads their body (a body that stalls, broken chunk framing,
/// oversized trailers, a body over Kestrel's size limit) get their own status in OpenAI's error shape,
/// one log line without a stack trace, and the server keeps serving. Real Kestrel on 127.0.0.1, driven over raw sockets.
/// </summary>
public sealed class BadHttpRequestTests
{
    private const string ChatHead = "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";

    [Fact]
    public async Task BodyTooSlow_Is408_InOpenAIShape_LoggedOnceWithoutStackTrace()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await StartAsync(logs, kestrel =>
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(1.5)));
        await using var client = await RawHttp.ConnectAsync(server.BaseUrl);

        // One byte of a declared 200, then silence: the rate falls below the minimum once the grace period ends.
        await client.SendAsync(ChatHead + "Content-Length: 200\r\n\r\n{");
        var response = await client.ReadResponseAsync();

        var error = AssertError(response, 408, "request_timeout");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        await AssertLoggedOnceWithoutStackTraceAsync(logs, response, 408);
        await AssertServerHealthyAsync(server);
    }

    [Fact]
    public async Task BadChunkSize_Is400_InOpenAIShape_LoggedOnceWithoutStackTrace()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await StartAsync(logs);
        await using var client = await RawHttp.ConnectAsync(server.BaseUrl);

        await client.SendAsync(ChatHead + "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();

        var error = AssertError(response, 400, "malformed_request");
        Assert.Contains("chunk", error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        await AssertLoggedOnceWithoutStackTraceAsync(logs, response, 400);
        await AssertServerHealthyAsync(server);
    }

    [Fact]
    public async Task ChunkedTrailersTooLarge_Is431_InOpenAIShape()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await StartAsync(logs, kestrel => kestrel.Limits.MaxRequestHeadersTotalSize = 4096);
        await using var client = await RawHttp.ConnectAsync(server.BaseUrl);

        var trailer = "X-Trailer: " + new string('a', 8000) + "\r\n";
        await client.SendAsync(ChatHead + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n" + trailer + "\r\n");
        var response = await client.ReadResponseAsync();

        AssertError(response, 431, "request_header_fields_too_large");
        await AssertLoggedOnceWithoutStackTraceAsync(logs, response, 431);
        await AssertServerHealthyAsync(server);
    }

    [Fact]
    public async Task BodyOverKestrelsLimit_Is413_InOpenAIShape()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await StartAsync(logs, kestrel => kestrel.Limits.MaxRequestBodySize = 64);
        await using var client = await RawHttp.ConnectAsync(server.BaseUrl);

        var body = "{\"model\":\"" + new string('m', 200) + "\"}";
        await client.SendAsync(ChatHead + $"Transfer-Encoding: chunked\r\n\r\n{Encoding.ASCII.GetByteCount(body):x}\r\n{body}\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();

        AssertError(response, 413, "request_too_large");
        await AssertLoggedOnceWithoutStackTraceAsync(logs, response, 413);
    }

    /// <summary>
    /// Kestrel refuses a request line or headers it cannot parse before any application code runs, with its own status
    /// and an empty body (that category of answer cannot be given a body); what matters is that it is never a 5xx.
    /// </summary>
    [Theory]
    [InlineData("GARBAGE\r\n\r\n", 400)]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n", 400)]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n", 431)]
    public async Task HeaderPhaseRefusals_KeepKestrelsStatus_AndTheServerKeepsServing(string request, int status)
    {
        await using var server = await StartAsync(new CapturingLoggerProvider());
        await using var client = await RawHttp.ConnectAsync(server.BaseUrl);

        await client.SendAsync(request.Replace("{big}", new string('b', 40_000), StringComparison.Ordinal));
        var response = await client.ReadResponseAsync();

        Assert.Equal(status, response.Status);
        await AssertServerHealthyAsync(server);
    }

    private static Task<CapaTestServer> StartAsync(CapturingLoggerProvider logs, Action<KestrelServerOptions>? kestrel = null) =>
        CapaTestServer.StartAsync(new CapaServerOptions(), builder =>
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
            if (kestrel is not null)
            {
                builder.WebHost.ConfigureKestrel(kestrel);
            }
        });

    private static System.Text.Json.JsonElement AssertError(RawResponse response, int status, string code)
    {
        Assert.True(status == response.Status, $"expected {status}, got {response.Status}: {response.Body}");
        Assert.StartsWith("application/json", response.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.True(response.Headers.ContainsKey("x-request-id"), "x-request-id missing");
        var error = ErrorAssert.Shape(response.Body);
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.DoesNotContain("Exception", response.Body, StringComparison.Ordinal);
        return error;
    }

    /// <summary>The request's warning is one line naming its status; no log line carries an exception or a stack trace.</summary>
    private static async Task AssertLoggedOnceWithoutStackTraceAsync(CapturingLoggerProvider logs, RawResponse response, int status)
    {
        var id = response.Headers["x-request-id"];

        // The outcome is logged after the response is sent: wait for it, boundedly.
        for (var i = 0; i < 400 && !logs.Lines.Any(l => l.Contains(id, StringComparison.Ordinal) && l.Contains("->", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(25);
        }

        var lines = logs.Lines.ToArray();
        var warnings = lines.Where(l => l.Contains(id, StringComparison.Ordinal) && l.StartsWith("Warning", StringComparison.Ordinal)).ToArray();
        var warning = Assert.Single(warnings);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), warning, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("Exception", StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("Error", StringComparison.Ordinal));
    }

    private static async Task AssertServerHealthyAsync(CapaTestServer server)
    {
        using var health = await server.Http.GetAsync("/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
    }
}
