using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>
/// An OpenAI-compatible endpoint on 127.0.0.1 that records what it receives. Its behaviour depends on the model id:
/// <c>upstream-400</c>, <c>upstream-503</c>, <c>upstream-500-text</c> fail; <c>upstream-slow</c> never answers;
/// <c>upstream-ignores-stream</c> answers JSON even when asked to stream;
/// <c>upstream-hang-stream</c> and <c>upstream-stall</c> stream one chunk then wait for the caller to go away; any other
/// id answers normally.
/// Requests are told apart by their <c>user</c> field.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string ApiKey = "upstream-secret";
    public const string ErrorBody400 = """{"error":{"message":"Upstream says no.","type":"invalid_request_error","param":"temperature","code":"upstream_says_no","extra":42}}""";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _aborted = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();

    private FakeUpstream(WebApplication app)
    {
        _app = app;
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>Requests received, by their <c>user</c> tag.</summary>
    public ConcurrentDictionary<string, Recorded> Received { get; } = new();

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", upstream.HandleAsync);
        app.Map("/v1/{**rest}", (RequestDelegate)upstream.EchoAsync);
        await app.StartAsync();
        upstream.BaseUrl = app.Urls.Single();
        return upstream;
    }

    /// <summary>Completes when the request tagged <paramref name="user"/> has been cancelled by its caller.</summary>
    public Task Aborted(string user) => _aborted.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Completes when the request tagged <paramref name="user"/> has arrived.</summary>
    public Task Started(string user) => _started.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// Set by a test when its client has read the first event of a streamed image generation: the fake upstream sends
    /// the last event only then, so a proxy that buffered the stream would make it time out.
    /// </summary>
    public TaskCompletionSource FirstImageEventRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Any other path: the request as received, as JSON (method, path, query, authorization, content type, body in base64).
    /// An image generation with <c>"stream":true</c> answers SSE instead: a partial image, then (once
    /// <see cref="FirstImageEventRead"/> is set, within 10 s) the completed event, else an error event.
    /// </summary>
    private async Task EchoAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        if (context.Request.Path.Value == "/v1/images/generations" && AsksToStream(buffer.ToArray()))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("event: image_generation.partial_image\ndata: {\"type\":\"image_generation.partial_image\",\"partial_image_index\":0}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            bool read = await FirstImageEventRead.Task.WaitAsync(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            await context.Response.WriteAsync(read
                ? "event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\"}\n\n"
                : "event: error\ndata: {\"error\":\"the first event was not delivered before the stream ended\"}\n\n", context.RequestAborted);
            return;
        }

        var echo = new JsonObject
        {
            ["method"] = context.Request.Method,
            ["path"] = context.Request.Path.Value,
            ["query"] = context.Request.QueryString.Value,
            ["authorization"] = context.Request.Headers.Authorization.ToString(),
            ["content_type"] = context.Request.ContentType,
            ["body"] = Convert.ToBase64String(buffer.ToArray()),
        };
        context.Response.StatusCode = context.Request.Path.Value!.EndsWith("/teapot", StringComparison.Ordinal) ? 418 : 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(echo.ToJsonString(), context.RequestAborted);
    }

    private static bool AsksToStream(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject json && json["stream"] is JsonValue stream && stream.TryGetValue(out bool value) && value;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var json = JsonNode.Parse(body)!.AsObject();
        var model = (string)json["model"]!;
        var user = (string?)json["user"] ?? Guid.NewGuid().ToString("N");
        var stream = (bool?)json["stream"] == true;
        var includeUsage = (bool?)json["stream_options"]?["include_usage"] == true;
        var recorded = new Recorded(
            context.Request.Path.Value!,
            context.Request.Headers.Authorization.ToString(),
            context.Request.ContentType,
            body,
            model);
        Received[user] = recorded;
        _started.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        using var registration = context.RequestAborted.Register(() =>
            _aborted.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());

        switch (model)
        {
            case "upstream-400":
                await WriteAsync(context, 400, "application/json", ErrorBody400);
                return;
            case "upstream-503":
                context.Response.Headers.RetryAfter = "7";
                await WriteAsync(context, 503, "application/json", """{"error":{"message":"Overloaded upstream.","type":"server_error","param":null,"code":null}}""");
                return;
            case "upstream-500-text":
                await WriteAsync(context, 500, "text/plain", "Internal Server Error at /srv/secret/path.py line 12");
                return;
            case "upstream-ignores-stream":
                await WriteAsync(context, 200, "application/json", Completion(model));
                return;
            case "upstream-slow":
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
                return;
        }

        if (!stream)
        {
            await WriteAsync(context, 200, "application/json", Completion(model));
            return;
        }

        context.Response.ContentType = "text/event-stream";
        foreach (var chunk in Chunks(model, includeUsage))
        {
            var data = "data: " + chunk + "\n\n";
            recorded.SentEvents.Enqueue(chunk);
            await context.Response.WriteAsync(data, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            if (model is "upstream-hang-stream" or "upstream-stall")
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
        }

        await context.Response.WriteAsync(": keep-alive comment\n\ndata: [DONE]\n\n", context.RequestAborted);
    }

    private static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(body, context.RequestAborted);
    }

    public static string Completion(string model) =>
        "{\"id\":\"chatcmpl-upstream1\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"" + model
        + "\",\"system_fingerprint\":\"fp_upstream\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello from upstream\",\"refusal\":null},"
        + "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}";

    public static IEnumerable<string> Chunks(string model, bool includeUsage)
    {
        string Chunk(string choices, string usage = "") =>
            "{\"id\":\"chatcmpl-upstream2\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"" + model
            + "\",\"system_fingerprint\":\"fp_upstream\",\"choices\":[" + choices + "]" + usage + "}";

        yield return Chunk("""{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}""");
        yield return Chunk("""{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}""");
        yield return Chunk("""{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}""");
        yield return Chunk("""{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}""");
        if (includeUsage)
        {
            yield return Chunk("", ""","usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}""");
        }
    }

    /// <summary>One request as the upstream saw it.</summary>
    public sealed record Recorded(string Path, string Authorization, string? ContentType, byte[] Body, string Model)
    {
        public ConcurrentQueue<string> SentEvents { get; } = new();

        public string BodyText => Encoding.UTF8.GetString(Body);
    }
}
