using System.Text.Json;
using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>The Images tab in a real browser against the server's embedded image model (capa-sd-tiny).</summary>
public sealed class ImagesTabTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    /// <summary>Records, in order, each image the gallery receives: its partial index, or "final".</summary>
    private const string RecordGallery = """
        () => {
          window.__gallery = [];
          const gallery = document.querySelector('#panel-images [data-images=gallery]');
          new MutationObserver(records => {
            for (const record of records) {
              for (const node of record.addedNodes) {
                const img = node.querySelector?.('img');
                if (img) window.__gallery.push(img.dataset.partial ?? 'final');
              }
            }
          }).observe(gallery, { childList: true });
        }
        """;

    /// <summary>Every image of the gallery is decoded and its caption shows its natural size.</summary>
    private const string GalleryDecoded = """
        () => {
          const figures = [...document.querySelectorAll('#panel-images [data-images=gallery] figure')];
          return figures.length > 0 && figures.every(f => {
            const img = f.querySelector('img');
            return img.complete && img.naturalWidth > 0 && f.querySelector('figcaption span.muted').textContent.length > 0;
          });
        }
        """;

    [SkippableFact]
    public async Task Dall_e_3_draws_the_requested_size_with_its_revised_prompt_and_the_same_seed_draws_the_same_image()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#images");
        var panel = session.Page.Locator("#panel-images");
        Assert.Equal("一只猫", await panel.Locator("textarea[name=prompt]").InputValueAsync());
        Assert.Equal("dall-e-3", await panel.Locator("input[name=model]").InputValueAsync());
        Assert.Equal("1024x1024", await panel.Locator("select[name=size]").InputValueAsync());
        await panel.Locator("input[name=seed]").FillAsync("42");

        var (sent, answer) = await GenerateAsync(session, panel);
        Assert.Equal("dall-e-3", sent.GetProperty("model").GetString());
        Assert.Equal("一只猫", sent.GetProperty("prompt").GetString());
        Assert.Equal(42, sent.GetProperty("seed").GetInt32());
        Assert.Equal("b64_json", sent.GetProperty("response_format").GetString());
        var image = Assert.Single(answer.GetProperty("data").EnumerateArray().ToList());
        var src = "data:image/png;base64," + image.GetProperty("b64_json").GetString();

        var img = panel.Locator("[data-images=gallery] img[data-image='0']");
        Assert.Equal(1, await panel.Locator("[data-images=gallery] img").CountAsync());
        Assert.Equal(src, await img.GetAttributeAsync("src"));
        Assert.Equal(1024, await img.EvaluateAsync<int>("i => i.naturalWidth"));
        Assert.Equal(1024, await img.EvaluateAsync<int>("i => i.naturalHeight"));
        Assert.Equal("1024 × 1024", await panel.Locator("figcaption span.muted").TextContentAsync());

        // dall-e-3 rewrites the prompt with the local chat model; the page shows the rewrite the API returned.
        var revised = image.GetProperty("revised_prompt").GetString();
        Assert.False(string.IsNullOrWhiteSpace(revised));
        Assert.Equal(revised, await panel.Locator("[data-revised='0']").TextContentAsync());
        Assert.Equal(revised, await img.GetAttributeAsync("alt"));

        var download = panel.Locator("[data-images=gallery] a[download]");
        Assert.Equal("image-0.png", await download.GetAttributeAsync("download"));
        Assert.Equal(src, await download.GetAttributeAsync("href"));
        Assert.Equal("Done.", await panel.Locator("form p[role=status]").TextContentAsync());
        output.WriteLine(await session.ScreenshotAsync("images-dall-e-3"));

        // The same seed again: the same rewrite and the same bytes.
        var (_, again) = await GenerateAsync(session, panel);
        var second = again.GetProperty("data")[0];
        Assert.Equal(revised, second.GetProperty("revised_prompt").GetString());
        Assert.Equal(src, await panel.Locator("[data-images=gallery] img[data-image='0']").GetAttributeAsync("src"));
        Assert.Equal(image.GetProperty("b64_json").GetString(), second.GetProperty("b64_json").GetString());

        Assert.Empty(session.ConsoleErrors);
        Assert.Empty(await session.CspViolationsAsync());
    }

    [SkippableFact]
    public async Task Gpt_image_streams_partial_previews_before_the_finished_image()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#images");
        var panel = session.Page.Locator("#panel-images");
        await panel.Locator("input[name=model]").FillAsync("gpt-image-1");
        await panel.Locator("input[name=seed]").FillAsync("5");

        // High quality takes the model's longer schedule, with steps between to preview (a one-step image has none).
        await panel.Locator("select[name=quality]").SelectOptionAsync("high");
        await panel.Locator("input[name=stream]").CheckAsync();
        await session.Page.EvaluateAsync(RecordGallery);

        var (sent, _) = await GenerateAsync(session, panel, readAnswer: false);

        Assert.True(sent.GetProperty("stream").GetBoolean());
        Assert.Equal(2, sent.GetProperty("partial_images").GetInt32());
        Assert.Equal("high", sent.GetProperty("quality").GetString());
        Assert.False(sent.TryGetProperty("response_format", out _), "gpt-image-1 takes no response_format");
        var shown = await session.Page.EvaluateAsync<string[]>("() => window.__gallery");
        Assert.Equal(["0", "1", "final"], shown);

        // The previews were replaced: one finished image is left, at the size asked for, with a download.
        var img = panel.Locator("[data-images=gallery] img");
        Assert.Equal(1, await img.CountAsync());
        Assert.Null(await img.GetAttributeAsync("data-partial"));
        Assert.Equal(1024, await img.EvaluateAsync<int>("i => i.naturalWidth"));
        Assert.Equal(1024, await img.EvaluateAsync<int>("i => i.naturalHeight"));
        Assert.Equal("image-0.png", await panel.Locator("[data-images=gallery] a[download]").GetAttributeAsync("download"));
        Assert.Equal("Done.", await panel.Locator("form p[role=status]").TextContentAsync());
        output.WriteLine(await session.ScreenshotAsync("images-gpt-image-streamed"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task A_size_the_model_does_not_draw_shows_openais_message()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#images");
        var panel = session.Page.Locator("#panel-images");
        await panel.Locator("input[name=model]").FillAsync("dall-e-3");
        await panel.Locator("select[name=size]").SelectOptionAsync("512x512");

        var response = session.Page.WaitForResponseAsync(r => r.Url.EndsWith("/v1/images/generations", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var answer = await response;
        var error = panel.Locator("p.error[role=alert]");
        await error.WaitForAsync();

        Assert.Equal(400, answer.Status);
        var expected = JsonDocument.Parse(await answer.TextAsync()).RootElement.GetProperty("error");
        Assert.Equal("size", expected.GetProperty("param").GetString());
        Assert.Equal("The size is not supported by this model.", expected.GetProperty("message").GetString());
        Assert.Equal(expected.GetProperty("message").GetString(), await error.TextContentAsync());
        Assert.Equal(0, await panel.Locator("[data-images=gallery] figure").CountAsync());
        Assert.False(await panel.Locator("button[type=submit]").IsDisabledAsync());
        output.WriteLine(await session.ScreenshotAsync("images-error"));
        Assert.Empty(await session.CspViolationsAsync());
    }

    /// <summary>Clicks Generate and waits for the gallery: returns the body sent and the JSON answer (unless streamed).</summary>
    internal static async Task<(JsonElement Sent, JsonElement Answer)> GenerateAsync(PlaygroundPage session, ILocator panel, bool readAnswer = true)
    {
        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/images/generations", StringComparison.Ordinal));
        var response = session.Page.WaitForResponseAsync(r => r.Url.EndsWith("/v1/images/generations", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var sent = JsonDocument.Parse((await request).PostData!).RootElement.Clone();
        var answered = await response;
        Assert.True(answered.Status == 200, $"HTTP {answered.Status}: {(readAnswer ? await answered.TextAsync() : "")}");
        var answer = readAnswer ? JsonDocument.Parse(await answered.TextAsync()).RootElement.Clone() : default;
        await session.Page.WaitForFunctionAsync("() => !document.querySelector('#panel-images button[type=submit]').disabled");
        var failure = panel.Locator("p.error[role=alert]:visible");
        Assert.True(await failure.CountAsync() == 0, "the page shows an error: " + (await failure.CountAsync() > 0 ? await failure.TextContentAsync() : ""));
        await session.Page.WaitForFunctionAsync(GalleryDecoded);
        return (sent, answer);
    }
}
