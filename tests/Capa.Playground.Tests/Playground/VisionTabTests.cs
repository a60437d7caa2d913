using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Engine.Images;
using Capa.Engine.Images.Encoding;
using Capa.Engine.Vision.Idefics3;
using Capa.Playground.Tests.Infrastructure;
using Capa.Server.Providers.Local;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>The Vision tab in a real browser against the server's embedded vision model (capa-tiny-vision).</summary>
public sealed class VisionTabTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly LocatorWaitForOptions Attached = new() { State = WaitForSelectorState.Attached };

    /// <summary>Hands the drop zone a PNG the way a drop (or a paste) does: a DataTransfer holding a File.</summary>
    private const string DropPng = """
        ([base64, kind]) => {
          const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
          const zone = document.querySelector('#panel-vision .drop');
          const event = kind === 'paste'
            ? new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true })
            : new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
          zone.dispatchEvent(event);
        }
        """;

    [SkippableFact]
    public async Task A_chosen_image_and_the_tutorials_question_get_an_answer_with_the_image_tokens_counted_per_detail()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#vision");
        var panel = session.Page.Locator("#panel-vision");
        var png = Png(96, 64);
        Assert.Equal("这个图片里面有什么内容？", await panel.Locator("textarea[name=question]").InputValueAsync());

        await panel.Locator("input[type=file][name=image]").SetInputFilesAsync(new FilePayload { Name = "stripes.png", MimeType = "image/png", Buffer = png });
        await panel.Locator(".preview img").WaitForAsync(Attached);
        await session.Page.WaitForFunctionAsync("() => document.querySelector('#panel-vision .preview p')?.textContent === '96 × 64'");
        await panel.Locator("select[name=detail]").SelectOptionAsync("low");
        await panel.Locator("input[name=max_tokens]").FillAsync("16");
        await panel.Locator("input[name=seed]").FillAsync("7");

        var low = await AskAsync(session, panel);
        var parts = low.Sent["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("这个图片里面有什么内容？", parts[0]!["text"]!.GetValue<string>());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), parts[1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.Equal("low", parts[1]!["image_url"]!["detail"]!.GetValue<string>());
        Assert.Equal(CapaTinyVision.ModelId, low.Sent["model"]!.GetValue<string>());
        Assert.True(low.Sent["stream"]!.GetValue<bool>());

        // What the page shows is what the API answers (the same request, seeded, asked again without streaming).
        var replay = await ReplayAsync(low.Sent);
        Assert.Equal(replay.Content, low.Content);
        Assert.NotEmpty(low.Content);
        Assert.Equal(replay.PromptTokens, low.PromptTokens);
        Assert.Equal(replay.CompletionTokens, low.CompletionTokens);
        Assert.Equal("7", await panel.Locator("[data-meta=seed] b").TextContentAsync());
        Assert.Matches("^fp_[0-9a-f]{10}$", await panel.Locator("[data-meta=system_fingerprint] b").TextContentAsync());

        // The prompt tokens count the image: at least its <image> tokens above the question alone, more at detail high
        // (the tiles beside the global image), as the model's own processor counts them.
        var processor = Idefics3ImageProcessor.FromFolder(CapaTinyVision.PathIn(fixture.Server.CacheDirectory));
        var textOnly = await ReplayAsync(new JsonObject
        {
            ["model"] = CapaTinyVision.ModelId,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "这个图片里面有什么内容？" }) }),
            ["max_tokens"] = 1,
        });
        Assert.True(
            low.PromptTokens - textOnly.PromptTokens >= processor.CountImageTokens(96, 64, split: false),
            $"prompt tokens {low.PromptTokens}, the question alone {textOnly.PromptTokens}");
        output.WriteLine(await session.ScreenshotAsync("vision-detail-low"));

        await panel.Locator("select[name=detail]").SelectOptionAsync("high");
        var high = await AskAsync(session, panel);
        Assert.Equal("high", high.Sent["messages"]![0]!["content"]![1]!["image_url"]!["detail"]!.GetValue<string>());
        Assert.Equal((await ReplayAsync(high.Sent)).PromptTokens, high.PromptTokens);
        var tiles = processor.CountImageTokens(96, 64, split: true) - processor.CountImageTokens(96, 64, split: false);
        Assert.True(tiles > 0);
        Assert.True(high.PromptTokens - low.PromptTokens >= tiles, $"detail high {high.PromptTokens} prompt tokens, low {low.PromptTokens}");
        output.WriteLine(await session.ScreenshotAsync("vision-detail-high"));

        Assert.Empty(session.ConsoleErrors);
        Assert.Empty(await session.CspViolationsAsync());
    }

    [SkippableFact]
    public async Task Dropped_and_pasted_images_are_shown_and_sent()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#vision");
        var panel = session.Page.Locator("#panel-vision");

        foreach (var (kind, width, height) in new[] { ("drop", 40, 30), ("paste", 24, 48) })
        {
            var png = Png(width, height);
            await session.Page.EvaluateAsync(DropPng, new[] { Convert.ToBase64String(png), kind });
            await session.Page.WaitForFunctionAsync($"() => document.querySelector('#panel-vision .preview p')?.textContent === '{width} × {height}'");
            var code = await panel.Locator(".code-view pre").GetAttributeAsync("data-curl") ?? "";
            var url = ShownCode.Curl(code)["messages"]![0]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>();
            Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), url);
        }

        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task No_image_and_an_image_the_server_cannot_read_show_messages()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#vision");
        var panel = session.Page.Locator("#panel-vision");
        var error = panel.Locator("p.error[role=alert]");

        // Nothing to look at: the page says so and sends nothing.
        await panel.Locator("button[type=submit]").ClickAsync();
        await error.WaitForAsync();
        Assert.Equal("Choose, drop or paste an image, or give its URL.", await error.TextContentAsync());
        Assert.DoesNotContain(session.Requests, r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));

        // Bytes that are no image: the API's own message.
        await panel.Locator("input[name=image_url]").FillAsync("data:image/png;base64," + Convert.ToBase64String(Encoding.ASCII.GetBytes("not a picture")));
        await panel.Locator(".preview [data-preview=unreadable]").WaitForAsync();
        Assert.Equal(0, await panel.Locator(".preview img").CountAsync());
        var response = session.Page.WaitForResponseAsync(r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var answer = await response;
        await session.Page.WaitForFunctionAsync("() => !document.querySelector('#panel-vision button[type=submit]').disabled");

        Assert.Equal(400, answer.Status);
        var expected = JsonDocument.Parse(await answer.TextAsync()).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(expected.GetProperty("message").GetString()));
        Assert.Equal(expected.GetProperty("message").GetString(), await error.TextContentAsync());
        Assert.True(await error.IsVisibleAsync());
        Assert.Equal(0, await panel.Locator("[data-meta=prompt_tokens]").CountAsync());
        output.WriteLine(await session.ScreenshotAsync("vision-error"));
    }

    /// <summary>A PNG of coloured stripes (so that tiles differ).</summary>
    internal static byte[] Png(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = ((y * width) + x) * 3;
                pixels[i] = (byte)(x * 255 / width);
                pixels[i + 1] = (byte)((x / 8 % 2) * 200);
                pixels[i + 2] = (byte)(y * 255 / height);
            }
        }

        return ImageCodec.Encode(new RgbImage(width, height, 3, pixels), ImageOutputFormat.Png);
    }

    /// <summary>Clicks Ask and waits for the answer: the body sent and what the page shows.</summary>
    internal static async Task<(JsonNode Sent, string Content, int PromptTokens, int CompletionTokens)> AskAsync(PlaygroundPage session, ILocator panel)
    {
        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var sent = JsonNode.Parse((await request).PostData!)!;
        await session.Page.WaitForFunctionAsync(
            "() => document.querySelector('#panel-vision [data-vision=answer] [data-meta=prompt_tokens]') || !document.querySelector('#panel-vision p.error[role=alert]').hidden");
        var failure = panel.Locator("p.error[role=alert]:visible");
        Assert.True(await failure.CountAsync() == 0, "the page shows an error: " + (await failure.CountAsync() > 0 ? await failure.TextContentAsync() : ""));
        var answer = panel.Locator("[data-vision=answer]");
        return (
            sent,
            await answer.Locator(".content").TextContentAsync() ?? "",
            int.Parse(await answer.Locator("[data-meta=prompt_tokens] b").TextContentAsync() ?? "", System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(await answer.Locator("[data-meta=completion_tokens] b").TextContentAsync() ?? "", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Sends a chat request to the server directly, not streamed: the answer and its usage.</summary>
    private async Task<(string Content, int PromptTokens, int CompletionTokens)> ReplayAsync(JsonNode body)
    {
        var copy = body.DeepClone().AsObject();
        copy.Remove("stream");
        copy.Remove("stream_options");
        using var content = new StringContent(copy.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await fixture.Server.Http.PostAsync("/v1/chat/completions", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var completion = JsonDocument.Parse(text).RootElement;
        var usage = completion.GetProperty("usage");
        return (
            completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "",
            usage.GetProperty("prompt_tokens").GetInt32(),
            usage.GetProperty("completion_tokens").GetInt32());
    }
}
