using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Fakes;

/// <summary>
/// A minimal OpenAI-compatible chat endpoint on 127.0.0.1 (free port). Behaviour is chosen by the model id:
/// <list type="bullet">
/// <item><c>story</c> (any other id): content is a function of the seed (request seed, else a fresh random one),
/// fingerprint fixed, seed returned in <c>x-capa-seed</c> — what a reproducible server does.</item>
/// <item><c>flaky</c>: ignores the seed (random content), fingerprint fixed — a broken promise.</item>
/// <item><c>drifting</c>: random content and a new fingerprint every time — allowed to differ.</item>
/// <item><c>json-ok</c>: a JSON object with Chinese text; <c>json-cut</c>: truncated JSON with finish_reason length;
/// <c>json-array</c>: a JSON array.</item>
/// <item><c>error</c>: a 400 in OpenAI's error shape; <c>error-control</c>: the same with an ESC sequence in its message.</item>
/// <item><c>control</c>: text full of terminal control characters (<see cref="ControlText"/>); <c>cut</c>: finish_reason length.</item>
/// <item>With <c>"stream": true</c> the same answer comes as server-sent events, in two content chunks.</item>
/// </list>
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    public const string Fingerprint = "fp_fake0123";

    /// <summary>What <c>control</c> answers: ESC sequences, other C0 controls, CR, DEL and a C1 control among text.</summary>
    public const string ControlText = "a\u001b[31mred\u001b]0;title\u0007\u0002\u001f\tb\nc\r\nd\u007f\u009be";

    private static readonly string[] Words =
    [
        "the", "crew", "rocket", "red", "dust", "Mars", "quietly", "landed", "after", "months", "of", "silence",
        "火星", "旅程", "星空", "a", "captain", "watched", "Earth", "fade", "<signal>", "&", "hope", "\"home\"",
    ];

    private readonly WebApplication _app;
    private string? _lastRequestBody;

    private FakeOpenAiServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The /v1 base URL to give the client.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The body of the most recent chat request.</summary>
    public string? LastRequestBody => Volatile.Read(ref _lastRequestBody);

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        FakeOpenAiServer? server = null;
        app.MapPost("/v1/chat/completions", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync(context.RequestAborted);
            Volatile.Write(ref server!._lastRequestBody, body);
            await RespondAsync(context, JsonNode.Parse(body)!.AsObject());
        });
        await app.StartAsync();
        var address = app.Urls.First();
        server = new FakeOpenAiServer(app, new Uri(address.TrimEnd('/') + "/v1"));
        return server;
    }

    /// <summary>The story the fake tells for a seed: several lines, so diffs have lines and words to work on.</summary>
    public static string Story(long seed)
    {
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var lines = new List<string>();
        for (int line = 0; line < 4; line++)
        {
            var words = new List<string>();
            for (int w = 0; w < 8; w++)
            {
                words.Add(Words[random.Next(Words.Length)]);
            }

            lines.Add(string.Join(' ', words));
        }

        return string.Join('\n', lines);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task StreamAsync(HttpContext context, string model, string fingerprint, string content, string finish)
    {
        context.Response.ContentType = "text/event-stream";
        JsonObject Chunk(JsonObject delta, string? finishReason) => new()
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1_700_000_000,
            ["model"] = model,
            ["system_fingerprint"] = fingerprint,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };
        var half = content.Length / 2;
        var events = new List<JsonObject>
        {
            Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null),
            Chunk(new JsonObject { ["content"] = content[..half] }, null),
            Chunk(new JsonObject { ["content"] = content[half..] }, null),
            Chunk(new JsonObject(), finish),
        };
        var usage = Chunk(new JsonObject(), null);
        usage["choices"] = new JsonArray();
        usage["usage"] = new JsonObject { ["prompt_tokens"] = 27, ["completion_tokens"] = 32, ["total_tokens"] = 59 };
        events.Add(usage);
        foreach (var item in events)
        {
            await context.Response.WriteAsync("data: " + item.ToJsonString() + "\n\n");
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static async Task RespondAsync(HttpContext context, JsonObject request)
    {
        string model = request["model"]?.GetValue<string>() ?? "story";
        long? seed = request["seed"]?.GetValue<long>();
        string fingerprint = Fingerprint;
        string finish = "stop";
        string content;
        long usedSeed = seed ?? Random.Shared.NextInt64(0, long.MaxValue);
        switch (model)
        {
            case "error" or "error-control":
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new JsonObject
                {
                    ["error"] = new JsonObject { ["message"] = model == "error" ? "bad model" : "bad \u001b[2Jmodel", ["type"] = "invalid_request_error", ["param"] = "model", ["code"] = null },
                });
                return;
            case "flaky":
                content = Story(Random.Shared.NextInt64());
                break;
            case "drifting":
                content = Story(Random.Shared.NextInt64());
                fingerprint = "fp_" + Random.Shared.Next().ToString("x8", CultureInfo.InvariantCulture);
                break;
            case "json-ok":
                content = """{"score":8,"comment":"我喜欢苹果 🍎","details":{"tags":["fruit","红色"],"ok":true,"ratio":0.5}}""";
                break;
            case "json-cut":
                content = """{"score": 8, "comment": "I like""";
                finish = "length";
                break;
            case "json-array":
                content = "[1, 2, 3]";
                break;
            case "control":
                content = ControlText;
                break;
            case "cut":
                content = "The answer was cut";
                finish = "length";
                break;
            default:
                content = Story(usedSeed);
                break;
        }

        context.Response.Headers["x-capa-seed"] = usedSeed.ToString(CultureInfo.InvariantCulture);
        if (request["stream"]?.GetValue<bool>() == true)
        {
            await StreamAsync(context, model, fingerprint, content, finish);
            return;
        }

        var response = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = model,
            ["system_fingerprint"] = fingerprint,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
                ["finish_reason"] = finish,
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 27, ["completion_tokens"] = 32, ["total_tokens"] = 59 },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }
}
