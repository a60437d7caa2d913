using Capa.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Tests.Infrastructure;

/// <summary>A Capa server on 127.0.0.1 with a free port, started for tests.</summary>
public sealed class CapaTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _ownStateDirectory;

    private CapaTestServer(WebApplication app, string baseUrl, string? ownStateDirectory)
    {
        _app = app;
        _ownStateDirectory = ownStateDirectory;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The root URL, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string BaseUrl { get; }

    /// <summary>The server's services (to reach a registered provider).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>A raw client for requests the SDK cannot make.</summary>
    public HttpClient Http { get; }

    /// <summary>
    /// Starts a server; the machine's environment stays out unless <paramref name="environment"/> supplies variables.
    /// Unless the test names a state directory (or <c>CAPA_STATE</c>), the server gets its own, deleted when it stops,
    /// so that no test reads or writes the state in the user's home.
    /// </summary>
    public static async Task<CapaTestServer> StartAsync(CapaServerOptions options, Action<WebApplicationBuilder>? configure = null, Func<string, string?>? environment = null)
    {
        environment ??= _ => null;
        string? ownState = null;
        if (options.StateDirectory is null && environment("CAPA_STATE") is null)
        {
            ownState = Directory.CreateTempSubdirectory("capa-test-state-").FullName;
            options = options with { StateDirectory = ownState };
        }

        var app = CapaServer.Build(
            options with
            {
                Urls = ["http://127.0.0.1:0"],
                GetEnvironmentVariable = environment,
            },
            builder =>
            {
                builder.Logging.ClearProviders();
                configure?.Invoke(builder);
            });
        await app.StartAsync();
        return new CapaTestServer(app, CapaServer.GetAddresses(app).Single().TrimEnd('/'), ownState);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownStateDirectory is not null)
        {
            try
            {
                Directory.Delete(_ownStateDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open is left for the temp cleaner; the next test has its own directory.
            }
        }
    }
}
