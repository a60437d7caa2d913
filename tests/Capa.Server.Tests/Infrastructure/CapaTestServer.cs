using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>A Capa server on 127.0.0.1 with a free port, started for tests.</summary>
public sealed class CapaTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CapaTestServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The root URL, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string BaseUrl { get; }

    /// <summary>The server's services (to reach a registered provider).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>A raw client for requests the SDK cannot make.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts a server; the machine's environment stays out unless <paramref name="environment"/> supplies variables.</summary>
    public static async Task<CapaTestServer> StartAsync(CapaServerOptions options, Action<WebApplicationBuilder>? configure = null, Func<string, string?>? environment = null)
    {
        // Without a state directory of its own a server would share the machine's (~/.capa/state) with every other run.
        string? ownedState = options.StateDirectory is null && options.StatePostgresConnectionString is null && environment?.Invoke("CAPA_STATE") is null
            ? Path.Combine(Path.GetTempPath(), "capa-test-state-" + Guid.NewGuid().ToString("N"))
            : null;
        var app = CapaServer.Build(
            options with
            {
                Urls = ["http://127.0.0.1:0"],
                GetEnvironmentVariable = environment ?? (_ => null),
                StateDirectory = options.StateDirectory ?? ownedState,
            },
            builder =>
            {
                builder.Logging.ClearProviders();
                configure?.Invoke(builder);
            });
        await app.StartAsync();
        return new CapaTestServer(app, CapaServer.GetAddresses(app).Single().TrimEnd('/')) { _ownedState = ownedState };
    }

    private string? _ownedState;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownedState is not null && Directory.Exists(_ownedState))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_ownedState, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
