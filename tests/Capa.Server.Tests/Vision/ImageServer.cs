using System.Collections.Concurrent;
using Capa.Media.Tests.Images;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SkiaSharp;

namespace Capa.Server.Tests.Vision;

/// <summary>
/// An HTTP server on 127.0.0.1 serving test images: good ones, misleading ones, redirects, oversized and stalling
/// bodies. It records every request (path and query) and which streamed responses the client cut off.
/// </summary>
public sealed class ImageServer : IAsyncDisposable
{
    /// <summary>Bytes <c>/big</c> offers at most; a client with a cap stops long before.</summary>
    public const long BigTotal = 256L << 20;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _cut = new();

    private ImageServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The 24×16 pattern served as <c>/image.png</c>.</summary>
    public static byte[] Png { get; } = ImageFixtures.Encode(ImageFixtures.Pattern(24, 16), SKEncodedImageFormat.Png);

    public string BaseUrl { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>Requests received, by path and query.</summary>
    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public static async Task<ImageServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new ImageServer(app);
        app.Use(async (context, next) =>
        {
            server.Hits.AddOrUpdate(context.Request.Path + context.Request.QueryString, 1, (_, n) => n + 1);
            await next(context);
        });
        app.MapGet("/image.png", (HttpContext c) => Send(c, Png, "image/png"));
        app.MapGet("/image-as-text", (HttpContext c) => Send(c, Png, "text/plain"));
        app.MapGet("/image.webp", (HttpContext c) => Send(c, ImageFixtures.Encode(ImageFixtures.Pattern(10, 6), SKEncodedImageFormat.Webp), "image/webp"));
        app.MapGet("/text", (HttpContext c) => Send(c, "this is not an image"u8.ToArray(), "image/png"));
        app.MapGet("/truncated.png", (HttpContext c) =>
        {
            var png = ImageFixtures.Encode(ImageFixtures.Pattern(64, 64), SKEncodedImageFormat.Png);
            return Send(c, png[..(png.Length / 2)], "image/png");
        });
        app.MapGet("/bomb.png", (HttpContext c) => Send(c, ImageFixtures.PngHeaderOnly(30000, 30000), "image/png"));
        app.MapGet("/missing", (HttpContext c) =>
        {
            c.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        app.MapGet("/redirect/{n:int}", (HttpContext c, int n) =>
        {
            if (n == 0)
            {
                return Send(c, Png, "image/png");
            }

            c.Response.StatusCode = n % 2 == 0 ? 302 : 307;
            c.Response.Headers.Location = $"/redirect/{n - 1}";
            return Task.CompletedTask;
        });
        app.MapGet("/redirect-to", (HttpContext c) =>
        {
            c.Response.StatusCode = 301;
            c.Response.Headers.Location = c.Request.Query["to"].ToString();
            return Task.CompletedTask;
        });
        app.MapGet("/big", server.BigAsync);
        app.MapGet("/big-declared", server.BigDeclaredAsync);
        app.MapGet("/slow", server.SlowAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.Single();
        server.Port = new Uri(server.BaseUrl).Port;
        return server;
    }

    /// <summary>Completes, with the bytes written, when the client cut off the response tagged <paramref name="tag"/>.</summary>
    public Task<long> Cut(string tag) => _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>How many requests <paramref name="pathAndQuery"/> received.</summary>
    public int HitsOf(string pathAndQuery) => Hits.TryGetValue(pathAndQuery, out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task Send(HttpContext context, byte[] body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>A PNG signature, then zeros, chunk after chunk, up to <see cref="BigTotal"/>, with no length declared.</summary>
    private async Task BigAsync(HttpContext context)
    {
        var tag = context.Request.Query["tag"].ToString();
        context.Response.ContentType = "image/png";
        var chunk = new byte[64 * 1024];
        Png.AsSpan(0, 8).CopyTo(chunk);
        long written = 0;
        try
        {
            // Kestrel may complete writes on a connection the client reset without an error, so the abort token is
            // checked on every chunk too.
            while (written < BigTotal && !context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                written += chunk.Length;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away mid-write.
        }
        finally
        {
            // Everything sent means nothing was cut: the test then sees BigTotal and fails.
            _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(written);
        }
    }

    /// <summary>Declares a gigabyte, sends a little, then waits for the client to go away.</summary>
    private async Task BigDeclaredAsync(HttpContext context)
    {
        var tag = context.Request.Query["tag"].ToString();
        context.Response.ContentType = "image/png";
        context.Response.ContentLength = 1L << 30;
        await context.Response.Body.WriteAsync(Png.AsMemory(0, 8), context.RequestAborted);
        await WaitForCutAsync(context, tag, 8);
    }

    /// <summary>Sends the first bytes of a PNG, then nothing more until the client gives up.</summary>
    private async Task SlowAsync(HttpContext context)
    {
        var tag = context.Request.Query["tag"].ToString();
        context.Response.ContentType = "image/png";
        context.Response.ContentLength = Png.Length;
        await context.Response.Body.WriteAsync(Png.AsMemory(0, 16), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await WaitForCutAsync(context, tag, 16);
    }

    private async Task WaitForCutAsync(HttpContext context, string tag, long written)
    {
        try
        {
            // Bounded so a broken client cannot keep the test server busy forever.
            await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(written);
        }
    }
}
