using Capa.Models.Hub;
using Microsoft.Playwright;

namespace Capa.Playground.Tests.Infrastructure;

/// <summary>One server and one headless Chromium shared by a test class (each test opens its own browser context).</summary>
public class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private PlaygroundServer? _server;

    /// <summary>The API keys the server requires (none by default).</summary>
    protected virtual IReadOnlyList<string> ApiKeys => [];

    public IBrowser Browser => _browser ?? throw new InvalidOperationException(Chromium.UnavailableReason);

    public PlaygroundServer Server => _server ?? throw new InvalidOperationException("The server did not start.");

    /// <summary>The hub the page pulls from (none by default).</summary>
    protected virtual HubClientOptions? Hub => null;

    public virtual async Task InitializeAsync()
    {
        _server = await PlaygroundServer.StartAsync(ApiKeys, Hub);
        if (Chromium.UnavailableReason is null)
        {
            (_playwright, _browser) = await Chromium.LaunchAsync();
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The fixture of a server that requires an API key.</summary>
public sealed class KeyedBrowserFixture : BrowserFixture
{
    public const string Key = "sk-playground-test-0123456789";

    protected override IReadOnlyList<string> ApiKeys => [Key];
}
