using System.Text;
using System.Text.Json;
using Capa.Models.Hub;
using Capa.Models.Tests.Hub;
using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>A server whose pulls come from the fake hub on 127.0.0.1, holding one small model repository.</summary>
public sealed class HubBrowserFixture : BrowserFixture
{
    public const string RepoId = "capa-test/Tiny-Store";

    internal FakeHub FakeHub { get; } = new();

    protected override HubClientOptions? Hub => new()
    {
        Endpoint = FakeHub.Endpoint,
        MaxRetries = 0,
        RetryDelay = TimeSpan.Zero,
        ResponseTimeout = TimeSpan.FromSeconds(20),
        ReadTimeout = TimeSpan.FromSeconds(20),
    };

    public override Task InitializeAsync()
    {
        // A model type no provider serves: installing it changes nothing else the page shows.
        var repo = FakeHub.AddRepo(RepoId, "0123456789abcdef0123456789abcdef01234567");
        repo.Files["config.json"] = new(Encoding.UTF8.GetBytes("""{"model_type":"capa-store-test"}"""));
        var weights = new byte[2_000_000];
        new Random(5).NextBytes(weights);
        repo.Files["onnx/model_q4.onnx"] = new(weights, Lfs: true);
        return base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await FakeHub.DisposeAsync();
    }
}

/// <summary>The Models tab: pull from the hub with a live progress bar, see the model listed, remove it after confirming.</summary>
public sealed class ModelsTabTests(HubBrowserFixture fixture, ITestOutputHelper output) : IClassFixture<HubBrowserFixture>
{
    private static readonly LocatorWaitForOptions Attached = new() { State = WaitForSelectorState.Attached };

    [SkippableFact]
    public async Task Pull_shows_progress_to_done_lists_the_model_and_remove_asks_first()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#models");
        var panel = session.Page.Locator("#panel-models");
        await panel.Locator("tbody[data-loaded]").WaitForAsync(Attached);
        Assert.Equal(0, await panel.Locator($"tr[data-model='{HubBrowserFixture.RepoId}']").CountAsync());

        // The progress bar's values as the page sets them, recorded before the pull starts.
        await session.Page.EvaluateAsync("""
            () => {
              window.__pull = [];
              const bar = document.querySelector('#panel-models progress');
              const value = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
              Object.defineProperty(bar, 'value', {
                get() { return value.get.call(this); },
                set(v) { window.__pull.push([v, this.max]); value.set.call(this, v); },
              });
            }
            """);
        await panel.Locator("input[name=model]").FillAsync(HubBrowserFixture.RepoId);
        var code = panel.Locator(".code-view pre");
        Assert.Contains("/capa/v1/models/pull", await code.GetAttributeAsync("data-curl"), StringComparison.Ordinal);
        Assert.Contains($"capa pull '{HubBrowserFixture.RepoId}'", await code.GetAttributeAsync("data-curl"), StringComparison.Ordinal);

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("progress[data-state=done]").WaitForAsync(Attached);

        var values = await session.Page.EvaluateAsync<double[][]>("() => window.__pull");
        var total = 2_000_000 + Encoding.UTF8.GetByteCount("""{"model_type":"capa-store-test"}""");
        Assert.True(values.Length >= 2, $"the bar moved {values.Length} time(s)");
        Assert.Equal(values.Select(v => v[0]).Order(), values.Select(v => v[0]));
        Assert.Equal(total, values[^1][0]);
        Assert.Equal(total, values[^1][1]);
        Assert.Equal(await panel.Locator("progress").EvaluateAsync<double>("p => p.max"), await panel.Locator("progress").EvaluateAsync<double>("p => p.value"));
        Assert.Contains($"Pulled {HubBrowserFixture.RepoId}", await panel.Locator("#pull-status").TextContentAsync(), StringComparison.Ordinal);

        // Listed, with what the server says about it.
        var row = panel.Locator($"tr[data-model='{HubBrowserFixture.RepoId}']");
        await row.WaitForAsync(Attached);
        var listed = (await Listed()).Single(m => m.GetProperty("id").GetString() == HubBrowserFixture.RepoId);
        Assert.Equal("q4", await row.Locator("[data-col=variant]").TextContentAsync());
        Assert.Equal("1.9 MB", await row.Locator("[data-col=size]").TextContentAsync());
        Assert.Equal(listed.GetProperty("fingerprint").GetString(), await row.Locator("[data-col=fingerprint] code").GetAttributeAsync("title"));
        Assert.StartsWith("sha256:", await row.Locator("[data-col=fingerprint] code").TextContentAsync(), StringComparison.Ordinal);
        output.WriteLine(await session.ScreenshotAsync("models-pulled"));

        // An axe check with the store's table filled in and the confirmation open.
        await row.Locator("button[data-action=remove]").ClickAsync();
        var confirm = row.Locator("button[data-confirm=remove]");
        Assert.True(await confirm.EvaluateAsync<bool>("b => b === document.activeElement"), "the confirmation did not take the focus");
        if (AccessibilityTests.AxeScript() is { } axe)
        {
            // axe is injected by the test, so only this context lets a script in past the page's policy.
            await using var axeContext = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true });
            var page = await axeContext.NewPageAsync();
            await page.GotoAsync(fixture.Server.BaseUrl + "/#models");
            var axeRow = page.Locator($"#panel-models tr[data-model='{HubBrowserFixture.RepoId}']");
            await axeRow.WaitForAsync(Attached);
            await axeRow.Locator("button[data-action=remove]").ClickAsync();
            await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = axe });
            var violations = await page.EvaluateAsync<string>("""
                async () => {
                  const result = await axe.run(document.querySelector('#panel-models'), { resultTypes: ['violations'] });
                  return JSON.stringify(result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({ id: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })));
                }
                """);
            Assert.Equal("[]", violations);
        }
        else
        {
            output.WriteLine("axe-core is not installed (npm ci in tests/oracle): the accessibility check of the filled table was skipped");
        }

        Assert.True(Directory.Exists(StoreFolder()), "removed before the confirmation");

        // Keyboard: Enter on the focused confirmation removes it.
        await session.Page.Keyboard.PressAsync("Enter");
        await row.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        Assert.False(Directory.Exists(StoreFolder()));
        Assert.Contains($"Removed {HubBrowserFixture.RepoId}", await panel.Locator("[role=status]").First.TextContentAsync() ?? string.Empty, StringComparison.Ordinal);
        Assert.Empty(session.ConsoleErrors);
        Assert.Empty(await session.CspViolationsAsync());
    }

    [SkippableFact]
    public async Task A_repository_the_hub_does_not_have_shows_the_servers_error_message()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#models");
        var panel = session.Page.Locator("#panel-models");
        await panel.Locator("input[name=model]").FillAsync("capa-test/No-Such-Model");

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("progress[data-state=failed]").WaitForAsync(Attached);

        using var direct = await fixture.Server.Http.PostAsync("/capa/v1/models/pull", new StringContent("""{"model":"capa-test/No-Such-Model"}""", Encoding.UTF8, "application/json"));
        var expected = JsonDocument.Parse(await direct.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();
        Assert.Equal(expected, await panel.Locator("form p.error[role=alert]").TextContentAsync());
    }

    [SkippableFact]
    public async Task Cancel_stops_the_pull_and_nothing_is_listed()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        const string stalled = "onnx/model_q4.onnx";
        fixture.FakeHub.Intercept = request => request.Path.EndsWith("/" + stalled, StringComparison.Ordinal)
            ? FakeHub.FileResponse(fixture.FakeHub.Repos[HubBrowserFixture.RepoId].Files[stalled].Content, null) with { StallAfterBytes = 500_000 }
            : null;
        try
        {
            await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#models");
            var panel = session.Page.Locator("#panel-models");
            await panel.Locator("input[name=model]").FillAsync(HubBrowserFixture.RepoId);
            await panel.Locator("button[type=submit]").ClickAsync();

            // Bounded wait for the stalled file to be under way, then Cancel.
            for (var i = 0; i < 400 && !fixture.FakeHub.FileRequests(stalled).Any(); i++)
            {
                await Task.Delay(50);
            }

            await panel.Locator("button:text-is('Cancel')").ClickAsync();
            await panel.Locator("progress[data-state=cancelled]").WaitForAsync(Attached);
            Assert.Contains("Cancelled", await panel.Locator("#pull-status").TextContentAsync(), StringComparison.Ordinal);

            var partial = Path.Combine(StoreRoot(), ".partial", "capa-test--Tiny-Store");
            for (var i = 0; i < 200 && Directory.Exists(partial); i++)
            {
                await Task.Delay(50);
            }

            Assert.False(Directory.Exists(partial), "the download folder was left behind");
            Assert.DoesNotContain(await Listed(), m => m.GetProperty("id").GetString() == HubBrowserFixture.RepoId);
        }
        finally
        {
            fixture.FakeHub.Intercept = null;
        }
    }

    private async Task<List<JsonElement>> Listed() =>
        [.. JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/capa/v1/models")).RootElement.GetProperty("data").EnumerateArray()];

    private string StoreRoot() => fixture.Server.ModelsDirectory;

    private string StoreFolder() => Path.Combine(StoreRoot(), "capa-test", "Tiny-Store");
}
