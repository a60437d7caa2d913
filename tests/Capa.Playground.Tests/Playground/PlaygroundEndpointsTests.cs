using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Capa.Playground.Tests.Infrastructure;
using Capa.Server.Auth;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Playground;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Capa.Playground.Tests.Playground;

/// <summary>The page's files and headers over HTTP, and what the page is told about the server.</summary>
public sealed class PlaygroundEndpointsTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/playground")]
    [InlineData("/playground/")]
    public async Task Page_is_served_with_a_strict_policy(string path)
    {
        using var response = await fixture.Server.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("style-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("http", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Contains("<title>Capa playground</title>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_file_is_served_with_its_type_and_holds_no_inline_code_or_other_origin()
    {
        var assets = new PlaygroundAssets();
        Assert.Contains("index.html", assets.Paths);
        Assert.Contains("js/app.js", assets.Paths);
        foreach (var path in assets.Paths)
        {
            using var response = await fixture.Server.Http.GetAsync(PlaygroundEndpoints.AssetsPath + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            var type = response.Content.Headers.ContentType!.ToString();
            var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
            switch (Path.GetExtension(path))
            {
                case ".html":
                    Assert.Equal("text/html; charset=utf-8", type);
                    Assert.DoesNotMatch(new Regex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase), text);
                    Assert.DoesNotMatch(new Regex(@"<style|\sstyle=|\son[a-z]+=", RegexOptions.IgnoreCase), text);
                    break;
                case ".js":
                    Assert.Equal("text/javascript; charset=utf-8", type);
                    Assert.DoesNotMatch(new Regex(@"innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function|\.style\."), text);
                    break;
                case ".css":
                    Assert.Equal("text/css; charset=utf-8", type);
                    break;
            }

            // Nothing is loaded from another origin: no absolute URL in an import, a src, an href or a url().
            Assert.DoesNotMatch(new Regex(@"(from\s+|import\(|src=|href=|url\()\s*['""]?(https?:)?//", RegexOptions.IgnoreCase), text);
        }
    }

    [Fact]
    public async Task Unknown_file_is_openais_404_and_a_known_one_revalidates()
    {
        using var missing = await fixture.Server.Http.GetAsync(PlaygroundEndpoints.AssetsPath + "nope.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.True(JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));

        using var first = await fixture.Server.Http.GetAsync(PlaygroundEndpoints.AssetsPath + "app.css");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, PlaygroundEndpoints.AssetsPath + "app.css");
        again.Headers.IfNoneMatch.Add(etag);
        using var second = await fixture.Server.Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Features_say_which_areas_this_server_serves()
    {
        using var response = await fixture.Server.Http.GetAsync("/playground/features");
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.False(root.GetProperty("requires_api_key").GetBoolean());
        var areas = root.GetProperty("areas");
        foreach (var area in new[] { "models", "chat", "speech", "transcription", "translation", "responses", "conversations" })
        {
            Assert.Equal("local", areas.GetProperty(area).GetString());
        }
    }

    [Fact]
    public void Features_follow_the_route_table_and_the_upstreams()
    {
        var endpoints = new DefaultEndpointDataSource(
            Endpoint("/v1/chat/completions", HttpMethods.Post),
            Endpoint("/v1/images", null),
            Endpoint("/v1/images/{**rest}", null),
            Endpoint("/v1/embeddings", null));
        var keys = new ApiKeyValidator(["k"]);

        var alone = PlaygroundFeatures.Describe(endpoints, Settings([]), keys);
        var forwarding = PlaygroundFeatures.Describe(endpoints, Settings([new UpstreamOptions { Name = "u", BaseUrl = new Uri("http://127.0.0.1:9/v1"), ApiKey = "x", Models = ["*"] }]), keys);

        Assert.True(alone.RequiresApiKey);
        Assert.Equal("local", alone.Areas["chat"]);
        Assert.Equal("none", alone.Areas["images"]);
        Assert.Equal("none", alone.Areas["embeddings"]);
        Assert.Equal("none", alone.Areas["speech"]);
        Assert.Equal("local", forwarding.Areas["chat"]);
        Assert.Equal("upstream", forwarding.Areas["images"]);
        Assert.Equal("none", forwarding.Areas["embeddings"]); // embeddings has its own area now, so a catch-all no longer stands for it
        Assert.Equal("none", forwarding.Areas["speech"]);
    }

    [Fact]
    public async Task Models_list_their_capabilities()
    {
        var models = JsonDocument.Parse(await fixture.Server.Http.GetStringAsync("/v1/models")).RootElement.GetProperty("data");
        var tiny = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == "capa-tiny");

        Assert.Contains("chat", tiny.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task With_a_key_the_page_loads_without_one_but_the_api_does_not()
    {
        await using var server = await PlaygroundServer.StartAsync(["sk-endpoint-test"]);

        using var page = await server.Http.GetAsync("/");
        using var features = await server.Http.GetAsync("/playground/features");
        using var models = await server.Http.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(JsonDocument.Parse(await features.Content.ReadAsStringAsync()).RootElement.GetProperty("requires_api_key").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    private static RouteEndpoint Endpoint(string pattern, string? method)
    {
        var metadata = method is null ? new EndpointMetadataCollection() : new EndpointMetadataCollection(new HttpMethodMetadata([method]));
        return new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(pattern), 0, metadata, pattern);
    }

    private static ServerSettings Settings(IReadOnlyList<UpstreamOptions> upstreams) =>
        ServerSettings.Resolve(new CapaServerOptions { Upstreams = upstreams, GetEnvironmentVariable = _ => null });
}
