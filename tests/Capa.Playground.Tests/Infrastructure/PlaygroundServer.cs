using System.Collections.Concurrent;
using Capa.Models.Hub;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Providers.Local;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Capa.Playground.Tests.Infrastructure;

/// <summary>
/// The real server as <c>capa serve</c> builds it, on 127.0.0.1 with a free port, over an empty models folder: the
/// embedded defaults (capa-tiny for chat, capa-tiny-vision for images in chat, capa-whisper-tiny for transcription,
/// capa-sd-tiny for image generation, espeak-ng for speech) answer.
/// </summary>
public sealed class PlaygroundServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _root;

    private PlaygroundServer(WebApplication app, string root, string baseUrl, LogLines logs)
    {
        _app = app;
        _root = root;
        BaseUrl = baseUrl;
        Logs = logs;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The root URL, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string BaseUrl { get; }

    /// <summary>The server's model store.</summary>
    public string ModelsDirectory => Path.Combine(_root, "models");

    /// <summary>Capa's own files (capa-tiny, capa-tiny-vision).</summary>
    public string CacheDirectory => Path.Combine(_root, "cache");

    /// <summary>A raw client.</summary>
    public HttpClient Http { get; }

    /// <summary>The bodies of the audio requests the server received (path, bytes).</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Received { get; private init; } = new();

    /// <summary>Every line the server logged.</summary>
    public LogLines Logs { get; }

    /// <summary>Starts a server; pulls from the page go to <paramref name="hub"/> (none given: a hub that does not exist).</summary>
    public static async Task<PlaygroundServer> StartAsync(IReadOnlyList<string>? apiKeys = null, HubClientOptions? hub = null)
    {
        var root = Directory.CreateTempSubdirectory("capa-playground-").FullName;
        var models = Directory.CreateDirectory(Path.Combine(root, "models")).FullName;
        var cache = Directory.CreateDirectory(Path.Combine(root, "cache")).FullName;
        var state = Directory.CreateDirectory(Path.Combine(root, "state")).FullName;
        var logs = new LogLines();
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        WebApplication? app = null;
        try
        {
            app = CapaServer.Build(
                new CapaServerOptions
                {
                    Urls = ["http://127.0.0.1:0"],
                    ModelsDirectory = models,
                    StateDirectory = state,
                    ApiKeys = apiKeys ?? [],
                    GetEnvironmentVariable = _ => null,
                    HubOptions = hub ?? new HubClientOptions { Endpoint = "http://127.0.0.1:9", MaxRetries = 0 },
                },
                builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Logging.SetMinimumLevel(LogLevel.Trace);
                    builder.Logging.AddProvider(logs);
                    // Registered as ServeCommand does, in its order (text chat before vision: a chat alias without an image
                    // stays on the text model).
                    builder.Services.AddLocalChatProvider(new LocalProviderOptions { ModelsDirectory = models, CacheDirectory = cache });
                    builder.Services.AddLocalVisionProvider(new LocalVisionProviderOptions { ModelsDirectory = models, CacheDirectory = cache });
                    builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = models, IntraOpThreads = 1 });
                    builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(root, "images") });
                });
            app.Use(async (context, next) =>
            {
                // Multipart bodies with a file are not visible to the browser's tooling: the server keeps what it got.
                if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/v1/audio"))
                {
                    context.Request.EnableBuffering();
                    using var copy = new MemoryStream();
                    await context.Request.Body.CopyToAsync(copy, context.RequestAborted);
                    context.Request.Body.Position = 0;
                    received.Enqueue((context.Request.Path.Value ?? "", copy.ToArray()));
                }

                await next(context);
            });
            app.Services.GetRequiredService<LocalChatProvider>().PrepareStore();
            app.Services.GetRequiredService<LocalVisionProvider>().PrepareStore();
            app.Services.GetRequiredService<LocalTranscriptionProvider>().Prepare();
            app.Services.GetRequiredService<LocalImageProvider>().Prepare();
            await app.StartAsync();
            return new PlaygroundServer(app, root, CapaServer.GetAddresses(app).Single().TrimEnd('/'), logs) { Received = received };
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a closing model session; the temp folder is the system's to clean.
        }
    }
}

/// <summary>Keeps every log line (message and exception) in memory.</summary>
public sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogLines owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
