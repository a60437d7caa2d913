using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Capa.Playground.Tests.Infrastructure;

/// <summary>
/// One browser tab on the playground, recording what a person would not see: console errors, uncaught exceptions,
/// Content-Security-Policy violations and every request the page makes.
/// </summary>
public sealed class PlaygroundPage : IAsyncDisposable
{
    /// <summary>Records CSP violations and how the streamed chat answer grows, before any script of the page runs.</summary>
    private const string InitScript = """
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
        window.__growth = [];
        new MutationObserver(() => {
          const answers = document.querySelectorAll('#panel-chat [data-role=assistant] .content');
          const last = answers[answers.length - 1];
          if (last && last.closest('[data-streaming=true]')) window.__growth.push(last.textContent.length);
        }).observe(document, { subtree: true, childList: true, characterData: true });
        """;

    private readonly IBrowserContext _context;

    private PlaygroundPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                ConsoleErrors.Enqueue($"{message.Text} ({message.Location})");
            }
        };
        page.PageError += (_, error) => ConsoleErrors.Enqueue("uncaught: " + error);
        page.Request += (_, request) => Requests.Enqueue(request);
    }

    public IPage Page { get; }

    public ConcurrentQueue<string> ConsoleErrors { get; } = new();

    public ConcurrentQueue<IRequest> Requests { get; } = new();

    public static async Task<PlaygroundPage> OpenAsync(IBrowser browser, string url, bool waitForTabs = true)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(90_000);
        await page.AddInitScriptAsync(InitScript);
        var session = new PlaygroundPage(context, page);
        await page.GotoAsync(url);
        if (waitForTabs)
        {
            await page.Locator("body[data-ready=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        }

        return session;
    }

    /// <summary>The CSP violations the page saw.</summary>
    public Task<string[]> CspViolationsAsync() => Page.EvaluateAsync<string[]>("() => window.__csp");

    /// <summary>Opens a tab by its id (chat, repro, speech, ...).</summary>
    public async Task<ILocator> OpenTabAsync(string id)
    {
        await Page.Locator($"[role=tab][data-tab={id}]").ClickAsync();
        var panel = Page.Locator($"#panel-{id}");
        await panel.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        return panel;
    }

    /// <summary>Saves a full-page screenshot under the test output's screenshots folder; returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;
        var path = Path.Combine(folder, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
