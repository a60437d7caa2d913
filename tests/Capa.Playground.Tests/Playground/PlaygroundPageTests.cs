using System.Text.Json;
using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>The page in a real browser (the system's Chromium, headless) against the real server on its embedded defaults.</summary>
public sealed class PlaygroundPageTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly LocatorWaitForOptions Attached = new() { State = WaitForSelectorState.Attached };

    [SkippableFact]
    public async Task Page_shows_a_tab_for_each_served_area_without_console_errors_csp_violations_or_other_origins()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/");

        var features = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/playground/features")).RootElement.GetProperty("areas");
        bool Served(string area) => features.GetProperty(area).GetString() != "none";
        var expected = new List<string>();
        if (Served("chat"))
        {
            expected.AddRange(["chat", "repro"]);
        }

        foreach (var (tab, area) in new[] { ("responses", "responses"), ("images", "images"), ("speech", "speech"), ("transcription", "transcription"), ("embeddings", "embeddings") })
        {
            if (Served(area))
            {
                expected.Add(tab);
            }
        }

        if (new[] { "files", "vector_stores", "assistants", "threads" }.All(Served))
        {
            expected.Add("gpts");
        }

        expected.Add("models");
        var tabs = await session.Page.Locator("[role=tab][data-tab]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.tab)");
        Assert.Equal(expected.Order(), tabs.Where(t => t != "vision").Order());
        Assert.Contains("chat", tabs);
        Assert.Contains("speech", tabs);
        Assert.Contains("transcription", tabs);
        Assert.Contains("responses", tabs);

        // The tutorial's Chinese prompt reaches the form intact (UTF-8 end to end: headers, module, DOM).
        Assert.Equal("谁获得了2022年英雄联盟S赛世界冠军？", await session.Page.Locator("#panel-chat textarea[name=user]").InputValueAsync());

        foreach (var tab in tabs)
        {
            var panel = await session.OpenTabAsync(tab);
            Assert.True(await panel.Locator(".code-view pre").CountAsync() > 0 || tab == "models", $"{tab} has no code box");
            output.WriteLine($"{tab}: {await session.ScreenshotAsync("tab-" + tab)}");
        }

        // A phone-width window: nothing wider than the screen.
        await session.Page.SetViewportSizeAsync(390, 844);
        await session.OpenTabAsync("chat");
        Assert.True(await session.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"));
        output.WriteLine($"phone: {await session.ScreenshotAsync("phone-chat")}");

        Assert.Empty(session.ConsoleErrors);
        Assert.Empty(await session.CspViolationsAsync());
        Assert.All(session.Requests, r => Assert.True(
            r.Url.StartsWith(fixture.Server.BaseUrl + "/", StringComparison.Ordinal) || r.Url.StartsWith("data:", StringComparison.Ordinal),
            "request to another origin: " + r.Url));
    }

    [SkippableFact]
    public async Task Model_pickers_offer_each_id_once_with_the_served_embedding_models()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/");
        var tabs = await session.Page.Locator("[role=tab][data-tab]").EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.tab)");
        Assert.Contains("embeddings", tabs);
        foreach (var tab in new[] { "embeddings", "speech", "transcription", "images" }.Where(tabs.Contains))
        {
            var panel = await session.OpenTabAsync(tab);
            var options = await panel.Locator("datalist option").EvaluateAllAsync<string[]>("els => els.map(e => e.value)");
            Assert.NotEmpty(options);
            Assert.True(options.Length == options.Distinct().Count(), $"{tab} offers an id twice: {string.Join(", ", options)}");
            if (tab == "embeddings")
            {
                // /v1/models lists the embedded encoder and OpenAI's ids that reach it; the picker offers them once.
                Assert.Contains("capa-embedding-tiny", options);
                Assert.Contains("text-embedding-ada-002", options);
                Assert.Single(options, o => o == "text-embedding-3-small");
            }
        }

        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Playground_path_serves_the_same_page()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/playground#speech");

        Assert.Equal("true", await session.Page.Locator("[role=tab][data-tab=speech]").GetAttributeAsync("aria-selected"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Chat_streams_an_answer_that_grows_and_shows_the_seed_and_fingerprint()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#chat");
        var panel = session.Page.Locator("#panel-chat");
        await panel.Locator("input[name=max_tokens]").FillAsync("48");

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("[data-role=assistant][data-streaming=false]").WaitForAsync(Attached);

        var text = await panel.Locator("[data-role=assistant] .content").TextContentAsync() ?? "";
        var growth = await session.Page.EvaluateAsync<int[]>("() => window.__growth");
        var steps = growth.Where(n => n > 0).Distinct().Count();
        Assert.True(steps >= 2, $"the answer appeared in {steps} step(s), not streamed: [{string.Join(",", growth)}]");
        Assert.Equal(text.Length, growth.Max());
        Assert.NotEmpty(text);
        Assert.Matches("^fp_[0-9a-f]{10}$", await panel.Locator("[data-meta=system_fingerprint] b").TextContentAsync());
        Assert.Matches("^[0-9]+$", await panel.Locator("[data-meta=seed] b").TextContentAsync());
        Assert.Contains(await panel.Locator("[data-meta=finish_reason] b").TextContentAsync(), new[] { "stop", "length" });
        Assert.Equal("谁获得了2022年英雄联盟S赛世界冠军？", await panel.Locator("[data-role=user] .content").TextContentAsync());
        output.WriteLine(await session.ScreenshotAsync("chat-streamed"));
        Assert.Empty(session.ConsoleErrors);
        Assert.Empty(await session.CspViolationsAsync());
    }

    [SkippableFact]
    public async Task Seeded_runs_twice_give_the_same_text()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#repro");
        var panel = session.Page.Locator("#panel-repro");
        await panel.Locator("input[name=without_seed]").UncheckAsync();
        await panel.Locator("input[name=runs]").FillAsync("2");
        await panel.Locator("input[name=max_tokens]").FillAsync("32");

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("[data-rate=seeded]").WaitForAsync(Attached);

        Assert.Contains("2 of 2", await panel.Locator("[data-rate=seeded]").TextContentAsync(), StringComparison.Ordinal);
        Assert.Contains("No differences found.", await panel.Locator("[data-series=seeded] [data-diff]").TextContentAsync(), StringComparison.Ordinal);
        var responses = await panel.Locator("[data-series=seeded] [data-field=response]").AllTextContentsAsync();
        Assert.Equal(2, responses.Count);
        Assert.Equal(responses[0], responses[1]);
        Assert.NotEmpty(responses[0]);
        var fingerprints = await panel.Locator("[data-series=seeded] [data-field=fingerprint]").AllTextContentsAsync();
        Assert.Single(fingerprints.Distinct());
        Assert.Equal(["123", "123"], await panel.Locator("[data-series=seeded] [data-field=seed]").AllTextContentsAsync());
        output.WriteLine(await session.ScreenshotAsync("repro-seeded"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Speech_gives_playable_audio_with_a_duration()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        Skip.If(!Tools.OnPath("espeak-ng") || !Tools.OnPath("ffmpeg"), "speech needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)");
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#speech");
        var panel = session.Page.Locator("#panel-speech");

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("audio[data-speech=result]").WaitForAsync(Attached);
        await session.Page.WaitForFunctionAsync(
            "() => { const a = document.querySelector('#panel-speech audio[data-speech=result]'); return a && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0; }");

        var duration = await session.Page.EvaluateAsync<double>("() => document.querySelector('#panel-speech audio[data-speech=result]').duration");
        Assert.InRange(duration, 0.5, 60);
        Assert.Matches(@"^speech\.mp3$", await panel.Locator("a[download]").GetAttributeAsync("download"));
        output.WriteLine(await session.ScreenshotAsync("speech-played"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Transcription_of_a_spoken_sample_shows_the_transcript_and_segments()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        Skip.If(!Tools.OnPath("espeak-ng") || !Tools.OnPath("ffmpeg"), "the sample is spoken by espeak-ng and encoded by ffmpeg (apt-get install espeak-ng ffmpeg)");
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#transcription");
        var panel = session.Page.Locator("#panel-transcription");

        await panel.GetByRole(AriaRole.Button, new() { Name = "Speak a sample" }).ClickAsync();
        await session.Page.WaitForFunctionAsync("() => !document.querySelector('#panel-transcription button[type=submit]').disabled");
        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/audio/transcriptions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("[data-transcript=text]").WaitForAsync(Attached);

        Assert.Contains("multipart/form-data", (await request).Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal("Done.", await panel.Locator("form p[role=status]").TextContentAsync());
        Assert.True(await session.Page.EvaluateAsync<bool>("() => document.querySelector('#panel-transcription audio').duration > 0"));
        output.WriteLine(await session.ScreenshotAsync("transcription"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Responses_streams_an_answer_and_chains_the_next_turn()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#responses");
        var panel = session.Page.Locator("#panel-responses");
        await panel.Locator("input[name=max_output_tokens]").FillAsync("24");

        await panel.Locator("button[type=submit]").ClickAsync();
        await panel.Locator("[data-meta=id]").WaitForAsync(Attached);
        var first = (await panel.Locator("[data-meta=id] b").TextContentAsync())!;
        Assert.StartsWith("resp_", first, StringComparison.Ordinal);
        Assert.NotEmpty((await panel.Locator("[data-role=assistant] .content").TextContentAsync())!);

        await panel.Locator("textarea[name=input]").FillAsync("再说一句。");
        var second = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/responses", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        Assert.Equal(first, JsonDocument.Parse((await second).PostData!).RootElement.GetProperty("previous_response_id").GetString());
        await panel.Locator("[data-meta=id]").Nth(1).WaitForAsync(Attached);
        output.WriteLine(await session.ScreenshotAsync("responses"));
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task An_api_error_shows_openais_message()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#chat");
        var panel = session.Page.Locator("#panel-chat");
        await panel.Locator("input[name=max_tokens]").FillAsync("100000000");

        await panel.Locator("button[type=submit]").ClickAsync();
        var error = panel.Locator("p.error[role=alert]:visible").First;
        await error.WaitForAsync();

        Assert.StartsWith("max_tokens is too large: 100000000.", await error.TextContentAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await panel.Locator("[data-role=assistant]").CountAsync());
        Assert.False(await panel.Locator("button[type=submit]").IsDisabledAsync());
    }

    [SkippableFact]
    public async Task Stop_ends_a_streamed_answer()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#chat");
        var panel = session.Page.Locator("#panel-chat");
        await panel.Locator("input[name=max_tokens]").FillAsync("2000");

        // A random-weight model may end an answer by itself before the click: then the next try stops one.
        // Each try starts from a cleared conversation with the same message, so it never depends on the one before.
        var stopped = false;
        for (var attempt = 0; attempt < 3 && !stopped; attempt++)
        {
            await panel.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
            await panel.Locator("textarea[name=user]").FillAsync("谁获得了2022年英雄联盟S赛世界冠军？");
            await panel.Locator("button[type=submit]").ClickAsync();
            // Streaming has begun (text shown), the answer ended by itself, or the request failed.
            await session.Page.WaitForFunctionAsync(
                "() => { const a = document.querySelector('#panel-chat [data-role=assistant]'); const e = document.querySelector('#panel-chat p.error[role=alert]:not([hidden])'); return e || (a && (a.dataset.streaming === 'false' || a.querySelector('.content').textContent.length > 0)); }");
            var failure = panel.Locator("p.error[role=alert]:visible");
            Assert.True(await failure.CountAsync() == 0, "the request failed: " + (await failure.CountAsync() > 0 ? await failure.First.TextContentAsync() : ""));
            await panel.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync(new LocatorClickOptions { Force = true });
            var answer = panel.Locator("[data-role=assistant]").First;
            await panel.Locator("[data-role=assistant][data-streaming=false]").First.WaitForAsync(Attached);
            stopped = await answer.Locator("[data-meta=stopped]").CountAsync() == 1;
        }

        Assert.True(stopped, "no answer was stopped in three tries");
        Assert.False(await panel.Locator("button[type=submit]").IsDisabledAsync());
        Assert.Empty(session.ConsoleErrors);
    }
}
