using System.Text.Json;
using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>axe-core (npm, tests/oracle) finds no serious or critical accessibility problem on any tab, in light and dark.</summary>
public sealed class AccessibilityTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    [SkippableTheory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task No_tab_has_serious_or_critical_violations(ColorScheme scheme)
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        var axe = AxeScript();
        Skip.If(axe is null, "axe-core is not installed (npm ci in tests/oracle)");

        // axe is injected by the test, so this context alone lets a script in past the page's policy.
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true, ColorScheme = scheme });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.Server.BaseUrl + "/");
        await page.Locator("body[data-ready=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = axe });

        var tabs = await page.Locator("[role=tab][data-tab]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.tab)");
        var problems = new List<string>();
        foreach (var tab in tabs)
        {
            await page.Locator($"[role=tab][data-tab={tab}]").ClickAsync();
            var json = await page.EvaluateAsync<string>("""
                async () => {
                  const result = await axe.run(document, { resultTypes: ['violations'] });
                  return JSON.stringify(result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })));
                }
                """);
            foreach (var violation in JsonDocument.Parse(json).RootElement.EnumerateArray())
            {
                problems.Add($"{tab}: {violation}");
            }
        }

        foreach (var problem in problems)
        {
            output.WriteLine(problem);
        }

        Assert.Empty(problems);
    }

    /// <summary>The path of axe-core's script under tests/oracle, or null when it is not installed.</summary>
    internal static string? AxeScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "oracle")))
            {
                var path = Path.Combine(dir.FullName, "tests", "oracle", "node_modules", "axe-core", "axe.min.js");
                return File.Exists(path) ? path : null;
            }
        }

        return null;
    }
}
