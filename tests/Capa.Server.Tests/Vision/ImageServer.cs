using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
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
    private readonly TcpListener _raw = new(IPAddress.Loopback, 0);
    private Task _rawLoop = Task.CompletedTask;

    private ImageServer(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The 24×16 pattern served as <c>/image.png</c>.</summary>
    public static byte[] Png { get; } = ImageFixtures.Encode(ImageFixtures.Pattern(24, 16), SKEncodedImageFormat.Png);

    public string BaseUrl { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>The oversized, close-delimited body (add <c>?tag=…</c>); served from a raw socket.</summary>
    public string BigUrl { get; private set; } = "";

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
        app.MapGet("/big-declared", server.BigDeclaredAsync);
        app.MapGet("/slow", server.SlowAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.Single();
        server.Port = new Uri(server.BaseUrl).Port;
        server._raw.Start();
        server.BigUrl = $"http://127.0.0.1:{((IPEndPoint)server._raw.LocalEndpoint).Port}/big";
        server._rawLoop = server.ServeBigAsync(server._raw);
        return server;
    }

    /// <summary>Completes, with the bytes written, when the client cut off the response tagged <paramref name="tag"/>.</summary>
    public Task<long> Cut(string tag) => _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>How many requests <paramref name="pathAndQuery"/> received.</summary>
    public int HitsOf(string pathAndQuery) => Hits.TryGetValue(pathAndQuery, out var n) ? n : 0;

    public async ValueTask DisposeAsync()
    {
        _raw.Stop();
        await _rawLoop;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Task Send(HttpContext context, byte[] body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// <c>/big</c> on a raw socket (Kestrel completes writes to a reset connection silently, so it cannot count what
    /// really left): a PNG signature, then zeros, up to <see cref="BigTotal"/>, in HTTP chunks.
    /// The count is what the kernel accepted before the client's close made sending fail.
    /// </summary>
    private async Task ServeBigAsync(TcpListener listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (socket)
                {
                    var request = new byte[8192];
                    var length = 0;
                    while (length < request.Length && request.AsSpan(0, length).IndexOf("\r\n\r\n"u8) < 0)
                    {
                        var read = await socket.ReceiveAsync(request.AsMemory(length));
                        if (read == 0)
                        {
                            return;
                        }

                        length += read;
                    }

                    var line = Encoding.ASCII.GetString(request, 0, length).Split("\r\n")[0];
                    var tag = line.Split(' ')[1].Split("tag=").Last();
                    Hits.AddOrUpdate(line.Split(' ')[1], 1, (_, n) => n + 1);
                    long written = 0;
                    try
                    {
                        await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());

                        // HTTP chunks of 64 KiB ("10000" in hex): a body a client could drain to reuse the connection.
                        var chunk = new byte[7 + (64 * 1024) + 2];
                        "10000\r\n"u8.CopyTo(chunk);
                        Png.AsSpan(0, 8).CopyTo(chunk.AsSpan(7));
                        "\r\n"u8.CopyTo(chunk.AsSpan(chunk.Length - 2));
                        while (written < BigTotal)
                        {
                            written += await socket.SendAsync(chunk);
                        }
                    }
                    catch (SocketException)
                    {
                        // The client closed the connection.
                    }

                    _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(written);
                }
            });
        }
    }

    /// <summary>Declares a gigabyte, sends a little, then waits for the client to go away.</summary>
    private async Task BigDeclaredAsync(HttpContext context)
    {
        var tag = context.Request.Query["tag"].ToString();
        context.Response.ContentType = "image/png";
        context.Response.ContentLength = 1L << 30;
        await WaitForCutAsync(context, tag, 8, () => context.Response.Body.WriteAsync(Png.AsMemory(0, 8), context.RequestAborted).AsTask());
    }

    /// <summary>Sends the first bytes of a PNG, then nothing more until the client gives up.</summary>
    private async Task SlowAsync(HttpContext context)
    {
        var tag = context.Request.Query["tag"].ToString();
        context.Response.ContentType = "image/png";
        context.Response.ContentLength = Png.Length;
        await WaitForCutAsync(context, tag, 16, async () =>
        {
            await context.Response.Body.WriteAsync(Png.AsMemory(0, 16), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        });
    }

    /// <summary>
    /// Writes the first bytes, then waits for the client to go away. A client that leaves while those bytes are being
    /// written (it may cancel as soon as the request arrives) is a cut too.
    /// </summary>
    private async Task WaitForCutAsync(HttpContext context, string tag, long written, Func<Task> writeFirstBytes)
    {
        try
        {
            await writeFirstBytes();
            // Bounded so a broken client cannot keep the test server busy forever.
            await Task.Delay(TimeSpan.FromSeconds(60), context.RequestAborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            _cut.GetOrAdd(tag, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(written);
        }
    }
}
