using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Capa.Playground.Tests.Playground;

/// <summary>A server started with an API key: the page asks for it first, and keeps it out of URLs, logs and storage that lasts.</summary>
public sealed class ApiKeyTests(KeyedBrowserFixture fixture) : IClassFixture<KeyedBrowserFixture>
{
    [SkippableFact]
    public async Task Page_asks_for_the_key_and_sends_no_api_request_without_it()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/", waitForTabs: false);
        var page = session.Page;
        await page.Locator("#key-panel").WaitForAsync();

        Assert.DoesNotContain(session.Requests, r => new Uri(r.Url).AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal));
        Assert.Equal(0, await page.Locator("[role=tab][data-tab]").CountAsync());

        // A wrong key: the server's message, still no tabs.
        await page.Locator("#key-input").FillAsync("sk-wrong");
        await page.Locator("#key-form button[type=submit]").ClickAsync();
        await page.Locator("#key-error:visible").WaitForAsync();
        Assert.Equal(0, await page.Locator("[role=tab][data-tab]").CountAsync());

        await page.Locator("#key-input").FillAsync(KeyedBrowserFixture.Key);
        await page.Locator("#key-form button[type=submit]").ClickAsync();
        await page.Locator("body[data-ready=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        Assert.True(await page.Locator("#key-panel").IsHiddenAsync());

        // A chat with the key works.
        var panel = page.Locator("#panel-chat");
        await panel.Locator("input[name=max_tokens]").FillAsync("8");
        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("[data-role=assistant][data-streaming=false] [data-meta=finish_reason]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

        var api = session.Requests.Where(r => new Uri(r.Url).AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal)).ToList();
        Assert.True(api.Count >= 3);
        Assert.All(api, r => Assert.StartsWith("Bearer sk-", r.Headers["authorization"], StringComparison.Ordinal));
        Assert.Equal("Bearer " + KeyedBrowserFixture.Key, api[^1].Headers["authorization"]);
        Assert.DoesNotContain(session.Requests, r => r.Url.Contains(KeyedBrowserFixture.Key, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Server.Logs.Lines, l => l.Contains(KeyedBrowserFixture.Key, StringComparison.Ordinal));
        Assert.Equal(KeyedBrowserFixture.Key, await page.EvaluateAsync<string>("() => sessionStorage.getItem('capa.apiKey')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));

        // The code shown reads the key from the environment, never the key itself.
        var code = await panel.Locator(".code-view pre").GetAttributeAsync("data-curl");
        Assert.Contains("Authorization: Bearer $OPENAI_API_KEY", code, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyedBrowserFixture.Key, await page.ContentAsync(), StringComparison.Ordinal);
    }
}
