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
            problems.AddRange(await ViolationsAsync(page, tab));
        }

        foreach (var problem in problems)
        {
            output.WriteLine(problem);
        }

        Assert.Empty(problems);
    }

    [SkippableTheory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task A_generated_image_and_a_vision_answer_have_no_serious_or_critical_violations(ColorScheme scheme)
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        var axe = AxeScript();
        Skip.If(axe is null, "axe-core is not installed (npm ci in tests/oracle)");

        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true, ColorScheme = scheme });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(90_000);
        await page.GotoAsync(fixture.Server.BaseUrl + "/#images");
        await page.Locator("body[data-ready=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = axe });
        var problems = new List<string>();

        // A gallery with its caption and download link, and an error beside it after a second, refused request.
        var images = page.Locator("#panel-images");
        await images.Locator("input[name=model]").FillAsync("dall-e-2");
        await images.Locator("select[name=size]").SelectOptionAsync("256x256");
        await images.Locator("input[name=seed]").FillAsync("1");
        await images.Locator("button[type=submit]").ClickAsync();
        await images.Locator("[data-images=gallery] a[download]").WaitForAsync();
        problems.AddRange(await ViolationsAsync(page, "images with an image"));
        await images.Locator("input[name=model]").FillAsync("dall-e-3");
        await images.Locator("button[type=submit]").ClickAsync();
        await images.Locator("p.error[role=alert]").WaitForAsync();
        problems.AddRange(await ViolationsAsync(page, "images with an error"));

        // An image chosen, its preview, and the answer with its token counts.
        await page.Locator("[role=tab][data-tab=vision]").ClickAsync();
        var vision = page.Locator("#panel-vision");
        await vision.Locator("input[type=file][name=image]").SetInputFilesAsync(new FilePayload { Name = "stripes.png", MimeType = "image/png", Buffer = VisionTabTests.Png(64, 48) });
        await vision.Locator(".preview p").WaitForAsync();
        await vision.Locator("input[name=max_tokens]").FillAsync("8");
        await vision.Locator("button[type=submit]").ClickAsync();
        await vision.Locator("[data-vision=answer] [data-meta=prompt_tokens]").WaitForAsync();
        problems.AddRange(await ViolationsAsync(page, "vision with an answer"));

        foreach (var problem in problems)
        {
            output.WriteLine(problem);
        }

        Assert.Empty(problems);
    }

    /// <summary>axe's serious and critical violations on the page as it is now, each prefixed with <paramref name="label"/>.</summary>
    private static async Task<IEnumerable<string>> ViolationsAsync(IPage page, string label)
    {
        var json = await page.EvaluateAsync<string>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ['violations'] });
              return JSON.stringify(result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })));
            }
            """);
        return JsonDocument.Parse(json).RootElement.EnumerateArray().Select(v => $"{label}: {v}").ToList();
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
