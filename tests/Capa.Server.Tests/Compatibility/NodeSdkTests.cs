using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Tests.Reproducibility;

namespace Capa.Server.Tests.Compatibility;

/// <summary>
/// The tutorial's chat example through the official OpenAI Node SDK (tests/oracle), with only the base URL changed:
/// against a local model, and through an upstream (a second Capa server routing the alias to the first).
/// </summary>
public sealed class NodeSdkTests
{
    [NodeSdkFact]
    public async Task SeedChatExample_LocalModel_ParsesInTheNodeSdk()
    {
        using var models = new TempDirectory();
        await using var local = await LocalReproServer.StartAsync(models.Path);

        var seen = await RunNodeAsync(local.BaseUrl + "/v1", "gpt-4-1106-preview");

        AssertSdkSawAnOpenAiConversation(seen);
        Assert.Contains("capa-tiny", seen.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }

    [NodeSdkFact]
    public async Task SeedChatExample_ThroughAnUpstream_ParsesInTheNodeSdk()
    {
        using var models = new TempDirectory();
        await using var upstream = await LocalReproServer.StartAsync(models.Path);
        await using var router = await CapaTestServer.StartAsync(new CapaServerOptions
        {
            Upstreams = [new UpstreamOptions { Name = "capa-upstream", BaseUrl = new Uri(upstream.BaseUrl + "/v1"), ApiKey = "k", Models = ["gpt-4-1106-preview"] }],
        });

        var viaRouter = await RunNodeAsync(router.BaseUrl + "/v1", "gpt-4-1106-preview");
        var direct = await RunNodeAsync(upstream.BaseUrl + "/v1", "gpt-4-1106-preview");

        AssertSdkSawAnOpenAiConversation(viaRouter);
        // Seeded, so the routed answer is the upstream's own answer, passed through unchanged.
        Assert.Equal(
            direct.GetProperty("completion").GetProperty("choices").GetRawText(),
            viaRouter.GetProperty("completion").GetProperty("choices").GetRawText());
        Assert.Equal(
            direct.GetProperty("completion").GetProperty("system_fingerprint").GetString(),
            viaRouter.GetProperty("completion").GetProperty("system_fingerprint").GetString());
    }

    private static void AssertSdkSawAnOpenAiConversation(JsonElement seen)
    {
        var completion = seen.GetProperty("completion");
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", completion.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("gpt-4-1106-preview", completion.GetProperty("model").GetString());
        Assert.Matches("^fp_[0-9a-f]{10}$", completion.GetProperty("system_fingerprint").GetString());
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = completion.GetProperty("usage");
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32());

        // Stream: one id, the role first, a finish_reason, then a usage chunk with empty choices; same seed, same text.
        var chunks = seen.GetProperty("chunks").EnumerateArray().ToList();
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var last = chunks[^1];
        Assert.Empty(last.GetProperty("choices").EnumerateArray());
        Assert.Equal(usage.GetRawText(), last.GetProperty("usage").GetRawText());
        var text = new StringBuilder();
        foreach (var chunk in chunks.SkipLast(1))
        {
            var delta = chunk.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                text.Append(content.GetString());
            }
        }

        Assert.Equal(choice.GetProperty("message").GetProperty("content").GetString(), text.ToString());
        Assert.Equal(choice.GetProperty("finish_reason").GetString(), chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var notFound = seen.GetProperty("notFound");
        Assert.True(notFound.GetProperty("isNotFound").GetBoolean());
        Assert.Equal(404, notFound.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", notFound.GetProperty("code").GetString());
    }

    private static Task<JsonElement> RunNodeAsync(string baseUrl, string model) =>
        NodeSdk.RunScriptAsync("openai-node-chat.mjs", baseUrl, model);

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("capa-node-sdk-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Where the official OpenAI Node SDK is installed for tests (tests/oracle), or why it is not.</summary>
internal static class NodeSdk
{
    public static string? OracleDirectory { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var oracle = Path.Combine(dir.FullName, "tests", "oracle");
            if (Directory.Exists(oracle))
            {
                return Directory.Exists(Path.Combine(oracle, "node_modules", "openai")) ? oracle : null;
            }
        }

        return null;
    }

    /// <summary>Runs a script of tests/oracle with node and parses the one JSON value it prints; fails on a non-zero exit.</summary>
    public static async Task<JsonElement> RunScriptAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = OracleDirectory!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.True(process.ExitCode == 0, $"node exited {process.ExitCode}: {await stderr}");
        using var document = JsonDocument.Parse(await stdout);
        return document.RootElement.Clone();
    }

    public static string? UnavailableReason =>
        OracleDirectory is null ? "tests/oracle/node_modules/openai is not installed (run npm ci in tests/oracle)"
        : FindOnPath("node") is null ? "node is not on PATH" : null;

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(p => Path.Combine(p, name)).FirstOrDefault(File.Exists);
}

/// <summary>A fact skipped, with the reason, where node or the Node SDK is missing.</summary>
public sealed class NodeSdkFactAttribute : FactAttribute
{
    public NodeSdkFactAttribute()
    {
        if (NodeSdk.UnavailableReason is { } reason)
        {
            Skip = "Node SDK unavailable: " + reason + ".";
        }
    }
}
