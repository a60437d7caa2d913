using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Playground.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Capa.Playground.Tests.Playground;

/// <summary>
/// "Show code": the Python, Node.js, .NET and curl code on each tab carries exactly the request the page sent, and the
/// Node.js and curl code, run for real, get the answer the page got (seeded).
/// </summary>
public sealed class ShowCodeTests(BrowserFixture fixture, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly LocatorWaitForOptions Attached = new() { State = WaitForSelectorState.Attached };

    [SkippableFact]
    public async Task Chat_code_in_every_language_is_the_request_sent_and_curl_and_node_get_the_same_answer()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#chat");
        var panel = session.Page.Locator("#panel-chat");
        await panel.Locator("input[name=stream]").UncheckAsync();
        await panel.Locator("input[name=seed]").FillAsync("7");
        await panel.Locator("input[name=max_tokens]").FillAsync("16");
        await panel.Locator("input[name=top_p]").FillAsync("0.9");

        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var sent = JsonNode.Parse((await request).PostData!)!;
        await panel.Locator("[data-role=assistant][data-streaming=false]").WaitForAsync(Attached);
        var answer = await panel.Locator("[data-role=assistant] .content").TextContentAsync() ?? "";

        Assert.Equal(7, sent["seed"]!.GetValue<int>());
        Assert.Equal("谁获得了2022年英雄联盟S赛世界冠军？", sent["messages"]![1]!["content"]!.GetValue<string>());
        var code = await CodeAsync(panel);
        AssertSame(sent, ShownCode.Curl(code["curl"]), "curl");
        AssertSame(sent, ShownCode.Node(code["node"]), "node");
        AssertSame(sent, ShownCode.DotNet(code["dotnet"]), "dotnet");
        AssertSame(sent, ShownCode.Python(code["python"]), "python");
        Assert.Contains(fixture.Server.BaseUrl + "/v1", code["python"], StringComparison.Ordinal);

        if (Tools.OnPath("curl"))
        {
            var stdout = await RunAsync("bash", ["-c", code["curl"]], null);
            var completion = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(answer, completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        else
        {
            output.WriteLine("curl is not installed: the curl code was not run.");
        }

        if (OracleNodeModules() is { } nodeModules && Tools.OnPath("node"))
        {
            var folder = Directory.CreateTempSubdirectory("capa-playground-node-").FullName;
            try
            {
                Directory.CreateSymbolicLink(Path.Combine(folder, "node_modules"), nodeModules);
                var script = Path.Combine(folder, "chat.mjs");
                await File.WriteAllTextAsync(script, code["node"]);
                Assert.Equal(answer + "\n", await RunAsync("node", [script], folder));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else
        {
            output.WriteLine("node or tests/oracle/node_modules/openai is missing (npm ci in tests/oracle): the Node.js code was not run.");
        }

        // The C# is a whole program (top-level statements): built against the OpenAI package this repository pins and
        // run, it must compile and print the same completion.
        if (RepositoryRoot() is { } root && Tools.OnPath("dotnet"))
        {
            var version = System.Text.RegularExpressions.Regex.Match(
                await File.ReadAllTextAsync(Path.Combine(root, "Directory.Packages.props")), "Include=\"OpenAI\" Version=\"([^\"]+)\"").Groups[1].Value;
            var folder = Directory.CreateTempSubdirectory("capa-playground-dotnet-").FullName;
            try
            {
                await File.WriteAllTextAsync(Path.Combine(folder, "shown.csproj"),
                    "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>"
                    + "<ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable></PropertyGroup>"
                    + $"<ItemGroup><PackageReference Include=\"OpenAI\" Version=\"{version}\" /></ItemGroup></Project>");
                await File.WriteAllTextAsync(Path.Combine(folder, "Program.cs"), code["dotnet"]);
                var stdout = await RunAsync("dotnet", ["run", "--property:NodeReuse=false"], folder, TimeSpan.FromMinutes(8));
                // The program's one line of output is the completion; a restore or build may have written lines before it.
                var line = stdout.Split('\n').Last(l => l.StartsWith('{'));
                var completion = JsonDocument.Parse(line).RootElement;
                Assert.Equal(answer, completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else
        {
            output.WriteLine("dotnet or the repository root is missing: the C# code was not run.");
        }
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    [SkippableFact]
    public async Task Json_schema_and_tools_reach_the_code_as_sent()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#chat");
        var panel = session.Page.Locator("#panel-chat");
        await panel.Locator("select[name=response_format]").SelectOptionAsync("json_schema");
        await panel.Locator("input[name=max_tokens]").FillAsync("8");

        // The code follows the form before anything is sent.
        var code = await CodeAsync(panel);
        var schema = ShownCode.Curl(code["curl"])["response_format"]!;
        Assert.Equal("json_schema", schema["type"]!.GetValue<string>());
        Assert.Equal("score", schema["json_schema"]!["name"]!.GetValue<string>());

        await panel.Locator("select[name=response_format]").SelectOptionAsync("text");
        await panel.Locator("input[name=use_tools]").CheckAsync();
        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        var sent = JsonNode.Parse((await request).PostData!)!;
        await panel.Locator("[data-role=assistant][data-streaming=false]").WaitForAsync(Attached);

        Assert.Equal("get_weather", sent["tools"]![0]!["function"]!["name"]!.GetValue<string>());
        code = await CodeAsync(panel);
        foreach (var (language, read) in Readers)
        {
            AssertSame(sent, read(code[language]), language);
        }
    }

    [SkippableFact]
    public async Task Speech_responses_and_repro_code_is_the_request_sent()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/");
        var cases = new List<(string Tab, string Path, Func<ILocator, Task> Fill)>
        {
            ("responses", "/v1/responses", p => p.Locator("input[name=max_output_tokens]").FillAsync("16")),
            ("repro", "/v1/chat/completions", async p =>
            {
                await p.Locator("input[name=without_seed]").UncheckAsync();
                await p.Locator("input[name=max_tokens]").FillAsync("8");
            }),
        };
        if (Tools.OnPath("espeak-ng") && Tools.OnPath("ffmpeg"))
        {
            cases.Add(("speech", "/v1/audio/speech", async p =>
            {
                await p.Locator("select[name=response_format]").SelectOptionAsync("wav");
                await p.Locator("input[name=speed]").FillAsync("1.25");
            }));
        }

        foreach (var (tab, path, fill) in cases)
        {
            var panel = await session.OpenTabAsync(tab);
            await fill(panel);
            var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith(path, StringComparison.Ordinal));
            await panel.Locator("button[type=submit]").ClickAsync();
            var sent = JsonNode.Parse((await request).PostData!)!;
            var code = await CodeAsync(panel);
            foreach (var (language, read) in Readers)
            {
                AssertSame(sent, read(code[language]), $"{tab} {language}");
            }

            await session.Page.WaitForFunctionAsync($"() => !document.querySelector('#panel-{tab} button[type=submit]').disabled");
        }

        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Transcription_code_has_the_fields_sent()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        Skip.If(!Tools.OnPath("espeak-ng") || !Tools.OnPath("ffmpeg"), "the sample is spoken by espeak-ng and encoded by ffmpeg");
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#transcription");
        var panel = session.Page.Locator("#panel-transcription");
        await panel.Locator("input[name=language]").FillAsync("zh");
        await panel.Locator("input[name=prompt]").FillAsync("天气");
        await panel.Locator("input[name=temperature]").FillAsync("0");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Speak a sample" }).ClickAsync();
        await session.Page.WaitForFunctionAsync("() => !document.querySelector('#panel-transcription button[type=submit]').disabled");

        var request = session.Page.WaitForRequestAsync(r => r.Url.EndsWith("/v1/audio/transcriptions", StringComparison.Ordinal));
        await panel.Locator("button[type=submit]").ClickAsync();
        await request;
        await panel.Locator("[data-transcript=text]").WaitForAsync(Attached);
        var body = Encoding.UTF8.GetString(fixture.Server.Received.Last(r => r.Path == "/v1/audio/transcriptions").Body);
        var code = await CodeAsync(panel);

        var fields = ShownCode.CurlForm(code["curl"]);
        Assert.Equal(
            [("model", "whisper-1"), ("language", "zh"), ("prompt", "天气"), ("temperature", "0"), ("response_format", "verbose_json"), ("timestamp_granularities", "segment")],
            fields);
        foreach (var (name, value) in fields)
        {
            var wire = name == "timestamp_granularities" ? name + "[]" : name;
            Assert.Contains($"name=\"{wire}\"\r\n\r\n{value}\r\n", body, StringComparison.Ordinal);
        }

        Assert.Contains("filename=\"sample.wav\"", body, StringComparison.Ordinal);
        Assert.Contains("language=\"zh\"", code["python"], StringComparison.Ordinal);
        Assert.Contains("prompt=\"天气\"", code["python"], StringComparison.Ordinal);
        Assert.Contains("fs.createReadStream(\"sample.wav\")", code["node"], StringComparison.Ordinal);
        Assert.Contains("Language = \"zh\"", code["dotnet"], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Images_code_is_the_request_sent_and_curl_and_node_draw_the_same_image()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#images");
        var panel = session.Page.Locator("#panel-images");
        await panel.Locator("input[name=seed]").FillAsync("11");
        await panel.Locator("select[name=quality]").SelectOptionAsync("standard");

        var (sentElement, answer) = await ImagesTabTests.GenerateAsync(session, panel);
        var sent = JsonNode.Parse(sentElement.GetRawText())!;
        var b64 = answer.GetProperty("data")[0].GetProperty("b64_json").GetString()!;
        var code = await CodeAsync(panel);
        foreach (var (language, read) in Readers)
        {
            AssertSame(sent, read(code[language]), "images " + language);
        }

        // The Python SDK declares no seed: it travels in extra_body, which the SDK merges into the body.
        Assert.Contains("extra_body={\n        \"seed\": 11,\n    },", code["python"], StringComparison.Ordinal);
        Assert.Contains("client.images.generate(", code["python"], StringComparison.Ordinal);
        Assert.Contains("ImageClient client = openai.GetImageClient(\"dall-e-3\");", code["dotnet"], StringComparison.Ordinal);
        Assert.Contains("await client.GenerateImagesAsync(body);", code["dotnet"], StringComparison.Ordinal);

        if (Tools.OnPath("curl"))
        {
            var stdout = await RunAsync("bash", ["-c", code["curl"]], null);
            Assert.Equal(b64, JsonDocument.Parse(stdout).RootElement.GetProperty("data")[0].GetProperty("b64_json").GetString());
        }
        else
        {
            output.WriteLine("curl is not installed: the curl code was not run.");
        }

        if (OracleNodeModules() is { } nodeModules && Tools.OnPath("node"))
        {
            var folder = Directory.CreateTempSubdirectory("capa-playground-node-").FullName;
            try
            {
                Directory.CreateSymbolicLink(Path.Combine(folder, "node_modules"), nodeModules);
                var script = Path.Combine(folder, "images.mjs");
                await File.WriteAllTextAsync(script, code["node"]);
                var revised = await RunAsync("node", [script], folder);
                Assert.Equal(answer.GetProperty("data")[0].GetProperty("revised_prompt").GetString() + "\n", revised);
                Assert.Equal(Convert.FromBase64String(b64), await File.ReadAllBytesAsync(Path.Combine(folder, "image-0.png")));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else
        {
            output.WriteLine("node or tests/oracle/node_modules/openai is missing (npm ci in tests/oracle): the Node.js code was not run.");
        }

        // Streamed: the code iterates the events and still carries the request as the form would send it.
        await panel.Locator("input[name=stream]").CheckAsync();
        code = await CodeAsync(panel);
        sent["stream"] = true;
        sent["partial_images"] = 2;
        foreach (var (language, read) in Readers)
        {
            AssertSame(sent, read(code[language]), "streamed images " + language);
        }

        Assert.Contains("for event in stream:", code["python"], StringComparison.Ordinal);
        Assert.Contains("for await (const event of stream)", code["node"], StringComparison.Ordinal);
        Assert.StartsWith("curl -N ", code["curl"], StringComparison.Ordinal);
        Assert.Empty(session.ConsoleErrors);
    }

    [SkippableFact]
    public async Task Vision_code_is_the_request_sent_with_the_image_inline()
    {
        Skip.If(Chromium.UnavailableReason is not null, Chromium.UnavailableReason);
        await using var session = await PlaygroundPage.OpenAsync(fixture.Browser, fixture.Server.BaseUrl + "/#vision");
        var panel = session.Page.Locator("#panel-vision");
        var png = VisionTabTests.Png(48, 48);
        await panel.Locator("input[type=file][name=image]").SetInputFilesAsync(new FilePayload { Name = "stripes.png", MimeType = "image/png", Buffer = png });
        await panel.Locator(".preview img").WaitForAsync(Attached);
        await panel.Locator("select[name=detail]").SelectOptionAsync("high");
        await panel.Locator("input[name=max_tokens]").FillAsync("8");
        await panel.Locator("input[name=seed]").FillAsync("3");

        var (sent, _, _, _) = await VisionTabTests.AskAsync(session, panel);
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), sent["messages"]![0]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());
        var code = await CodeAsync(panel);
        foreach (var (language, read) in Readers)
        {
            AssertSame(sent, read(code[language]), "vision " + language);
        }

        Assert.Empty(session.ConsoleErrors);
    }

    private static readonly (string Language, Func<string, JsonNode> Read)[] Readers =
    [
        ("curl", ShownCode.Curl), ("node", ShownCode.Node), ("dotnet", ShownCode.DotNet), ("python", ShownCode.Python),
    ];

    /// <summary>The code of every language the tab's code box holds now.</summary>
    private static async Task<Dictionary<string, string>> CodeAsync(ILocator panel)
    {
        var pre = panel.Locator(".code-view pre");
        var code = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var language in new[] { "python", "node", "dotnet", "curl" })
        {
            code[language] = await pre.GetAttributeAsync("data-" + language) ?? "";
        }

        // What a person copies is the selected language's text, the same as its attribute.
        var shown = await pre.Locator("code").TextContentAsync();
        var selected = await pre.Locator("code").GetAttributeAsync("data-lang");
        Assert.Equal(code[selected!], shown);
        return code;
    }

    private static void AssertSame(JsonNode sent, JsonNode shown, string language) =>
        Assert.True(JsonNode.DeepEquals(sent, shown), $"{language} code differs from the request sent:\nsent:  {sent.ToJsonString()}\nshown: {shown.ToJsonString()}");

    private static string? OracleNodeModules()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var modules = Path.Combine(dir.FullName, "tests", "oracle", "node_modules");
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "oracle")))
            {
                return Directory.Exists(Path.Combine(modules, "openai")) ? modules : null;
            }
        }

        return null;
    }

    private static async Task<string> RunAsync(string program, string[] arguments, string? workingDirectory, TimeSpan? limit = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("OPENAI_API_KEY");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
