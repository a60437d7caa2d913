using System.Net;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Configuration;

/// <summary>A server configured only by a config file and the environment, as <c>capa serve --config</c> runs it.</summary>
public sealed class ConfiguredServerTests
{
    [Fact]
    public async Task ConfigFileAndEnvironment_DefineUpstreamsKeysAndAliases()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var path = Path.Combine(Path.GetTempPath(), "capa-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, $$"""
            { "upstreams": [{ "name": "file", "base_url": "{{upstream.BaseUrl}}/v1", "api_key_env": "FILE_KEY", "models": ["named-model"] }],
              "aliases": { "my-alias": "named-model" },
              "api_keys": ["sk-from-file"] }
            """);
        var env = new Dictionary<string, string>
        {
            ["FILE_KEY"] = "file-upstream-key",
            ["OPENAI_API_KEY"] = "openai-upstream-key",
            ["OPENAI_BASE_URL"] = upstream.BaseUrl + "/v1",
        };
        try
        {
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ConfigFile = path }, environment: name => env.GetValueOrDefault(name));

            // Named model: the file's upstream with the key from FILE_KEY.
            var tag = SseTestReader.Tag();
            using (var response = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("named-model", tag), key: "sk-from-file")))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("Bearer file-upstream-key", upstream.Received[tag].Authorization);
            }

            // Alias from the file.
            tag = SseTestReader.Tag();
            using (var response = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("my-alias", tag), key: "sk-from-file")))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("named-model", upstream.Received[tag].Model);
                Assert.Contains("\"model\":\"my-alias\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            // Any other id: the `openai` upstream defined by OPENAI_API_KEY, built-in aliases included (no local model).
            foreach (var model in new[] { "gpt-4-1106-preview", "some-other-model" })
            {
                tag = SseTestReader.Tag();
                using var response = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody(model, tag), key: "sk-from-file"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("Bearer openai-upstream-key", upstream.Received[tag].Authorization);
                Assert.Equal(model, upstream.Received[tag].Model);
            }

            // The file's API keys are enforced.
            using (var response = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("named-model", "u"), key: "sk-other")))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task NoKeysConfigured_AcceptsRequestsWithoutAKey()
    {
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions(), b => b.Services.AddChatProvider(new LocalTestProvider()));
        using var response = await server.Http.SendAsync(SseTestReader.Post(SseTestReader.ChatBody("local-chat", "u"), key: null));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://192.168.1.5:8080", false)]
    public void IsLoopbackOnly(string url, bool expected) => Assert.Equal(expected, CapaServer.IsLoopbackOnly(url));
}
