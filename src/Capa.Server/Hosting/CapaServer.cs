using System.Net;
using Capa.Server.Assistants;
using Capa.Server.Audio;
using Capa.Server.Auth;
using Capa.Server.Chat;
using Capa.Server.Configuration;
using Capa.Server.Embeddings;
using Capa.Server.Files;
using Capa.Server.Limits;
using Capa.Server.Metrics;
using Capa.Server.Models;
using Capa.Server.Passthrough;
using Capa.Server.Playground;
using Capa.Server.Providers.Upstream;
using Capa.Server.Responses;
using Capa.Server.Routing;
using Capa.Server.Telemetry;
using Capa.Server.VectorStores;
using Capa.Server.Vision;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Hosting;

/// <summary>Builds the Capa server: Kestrel, the OpenAI endpoints, auth, limits and routing to providers.</summary>
public static class CapaServer
{
    /// <summary>
    /// Builds the server (not started). <paramref name="configure"/> runs before the application is built: register
    /// chat providers there (<see cref="CapaServiceCollectionExtensions.AddChatProvider{T}"/>), further API areas
    /// (<see cref="ApiAreaServiceCollectionExtensions.AddApiArea"/>) and adjust logging.
    /// </summary>
    /// <exception cref="CapaConfigException">The options, config file or environment are invalid.</exception>
    public static WebApplication Build(CapaServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = ServerSettings.Resolve(options);

        // The content root is the install folder so a stray appsettings.json in the working directory changes nothing.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = typeof(CapaServer).Assembly.GetName().Name,
        });
        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // The chat endpoint bounds the body itself, with an OpenAI-shaped 413, also for chunked bodies.
            kestrel.Limits.MaxRequestBodySize = null;
        });

        // The framework's per-request logs repeat ours and print full URLs (query strings included): warnings only.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var services = builder.Services;
        // TryAdd, as each area's Add… does: a service registered before these keeps its place, and one a test registers
        // in configure (after these) is the one resolved.
        services.TryAddSingleton(options);
        services.TryAddSingleton(settings);
        services.TryAddSingleton(new ApiKeyValidator(settings.ApiKeys));
        services.TryAddSingleton(_ => new RequestGate(settings.MaxConcurrentRequests, settings.RequestQueueLength));
        services.TryAddSingleton(_ => new BodyBudget(settings.MaxBodyBytes));
        services.TryAddSingleton(_ => CreateUpstreamClient(settings));
        services.TryAddSingleton<IReadOnlyList<UpstreamChatProvider>>(sp =>
        {
            var client = sp.GetRequiredService<UpstreamHttpClient>().Client;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger<UpstreamChatProvider>();
            return settings.Upstreams.Select(u => new UpstreamChatProvider(u, client, settings.UpstreamTimeout, logger)).ToArray();
        });
        services.TryAddSingleton(sp => new ModelRouter(
            sp.GetServices<IChatProvider>().Concat(sp.GetServices<IModelProvider>()),
            sp.GetRequiredService<IReadOnlyList<UpstreamChatProvider>>(),
            settings.Aliases));
        services.TryAddSingleton<ChatCompletionsEndpoint>();

        // The one clock every area reads (dates, expiry, caches, leases); a test replaces it in configure.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSpeech();
        services.AddVisionInput();
        services.AddResponses();
        services.AddFiles();
        services.AddEmbeddings();
        services.AddVectorStores();
        services.AddAssistants();
        services.AddPassthrough();
        services.AddPlayground();
        services.AddRouting();
        services.AddCapaTracing(settings.Tracing);

        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseMiddleware<RequestContextMiddleware>();
        app.UseMiddleware<StatusCodeErrorMiddleware>();
        app.UseRouting();
        app.UseCapaMetrics();
        app.UseMiddleware<ApiKeyMiddleware>();
        MapEndpoints(app);
        return app;
    }

    /// <summary>The addresses the started server listens on (with the real port when the options asked for port 0).</summary>
    public static IReadOnlyList<string> GetAddresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        return addresses?.ToArray() ?? [];
    }

    /// <summary>Whether the server requires an API key (keys came from the options or the config file).</summary>
    public static bool RequiresApiKey(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<ApiKeyValidator>().Enabled;
    }

    /// <summary>Where traces are exported, e.g. <c>http://127.0.0.1:4318/v1/traces (http/protobuf)</c>; null when tracing is off.</summary>
    public static string? TracesDestination(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<ServerSettings>().Tracing is { } tracing
            ? $"{tracing.TracesUrl} ({(tracing.Protocol == OtlpProtocol.Grpc ? "grpc" : "http/protobuf")})"
            : null;
    }

    /// <summary>Whether a URL binds only to the loopback interface (no key needed to stay private).</summary>
    public static bool IsLoopbackOnly(string url)
    {
        ArgumentNullException.ThrowIfNull(url);

        // Kestrel accepts wildcard hosts (*, +) that Uri rejects; they bind every interface.
        var normalized = url.Replace("://*", "://wildcard.invalid", StringComparison.Ordinal).Replace("://+", "://wildcard.invalid", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static UpstreamHttpClient CreateUpstreamClient(ServerSettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = settings.UpstreamConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
            AllowAutoRedirect = false,
            UseCookies = false,
        };

        // Timeouts are applied per request (headers, then each body read), so the client's own is off.
        return new UpstreamHttpClient(new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan });
    }

    private static void MapEndpoints(WebApplication app)
    {
        var anonymous = new ApiKeyMiddleware.AllowAnonymous();
        app.MapMethods("/health", [HttpMethods.Get, HttpMethods.Head], static context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("{\"status\":\"ok\"}", context.RequestAborted);
        }).WithMetadata(anonymous);

        app.MapGet("/v1/models", static context =>
            ModelEndpoints.ListAsync(context, context.RequestServices.GetRequiredService<ModelRouter>()));
        app.MapGet("/v1/models/{**id}", static context =>
            ModelEndpoints.GetAsync(context, context.RequestServices.GetRequiredService<ModelRouter>()));
        app.MapPost("/v1/chat/completions", static context =>
            context.RequestServices.GetRequiredService<ChatCompletionsEndpoint>().HandleAsync(context));
        app.MapCapaMetrics();
        app.MapSpeech();
        app.MapTranscription();
        app.MapPassthrough();
        app.MapResponses();
        foreach (var area in app.Services.GetServices<ApiArea>())
        {
            area.Map(app);
        }

        app.MapModelStore(app.Services.GetRequiredService<CapaServerOptions>(), app.Services.GetRequiredService<ServerSettings>());
        app.MapPlayground();
    }
}

/// <summary>The one HTTP client for all upstreams (a single connection pool), disposed with the server.</summary>
internal sealed class UpstreamHttpClient(HttpClient client) : IDisposable
{
    public HttpClient Client { get; } = client;

    public void Dispose() => Client.Dispose();
}

/// <summary>Registration of chat providers.</summary>
public static class CapaServiceCollectionExtensions
{
    /// <summary>Registers a chat provider (a singleton) that the router consults before upstreams.</summary>
    public static IServiceCollection AddChatProvider<T>(this IServiceCollection services)
        where T : class, IChatProvider
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddSingleton<IChatProvider, T>();
    }

    /// <summary>Registers a chat provider instance.</summary>
    public static IServiceCollection AddChatProvider(this IServiceCollection services, IChatProvider provider)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(provider);
        return services.AddSingleton(provider);
    }
}
