using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Telemetry;

/// <summary>
/// A stand-in OTLP/HTTP collector on 127.0.0.1: it accepts <c>POST /v1/traces</c>, records each body with its content
/// type, and answers an empty (valid) <c>ExportTraceServiceResponse</c>.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:41234</c>, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> would give it.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Every export received: the path, the content type and the body.</summary>
    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Exports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", receiver.ReceiveAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.Single().TrimEnd('/');
        return receiver;
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        Exports.Enqueue((context.Request.Path.Value ?? "", context.Request.ContentType, body.ToArray()));
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-protobuf";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
