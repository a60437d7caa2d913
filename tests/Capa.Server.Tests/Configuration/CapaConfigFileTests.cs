using System.Text;
using Capa.Engine.Text.Generation;
using Capa.Server.Configuration;
using Capa.Server.Hosting;

namespace Capa.Server.Tests.Configuration;

public sealed class CapaConfigFileTests
{
    private static CapaConfigFile Parse(string json) => CapaConfigFile.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    [Fact]
    public void FullSchema_Parses()
    {
        var config = Parse("""
            {
              // comments and trailing commas are allowed
              "upstreams": [
                { "name": "openai", "base_url": "https://api.openai.com/v1", "api_key_env": "MY_KEY", "models": ["*"], "timeout": 30 },
                { "name": "groq", "base_url": "http://127.0.0.1:9/openai/v1", "api_key": "k", "models": ["llama-3"] },
              ],
              "aliases": { "gpt-4o": "llama-3" },
              "api_keys": ["sk-1", "sk-2"],
              "limits": { "max_body_bytes": 1024, "max_json_depth": 32, "max_concurrent_requests": 2, "queue_length": 0,
                          "upstream_timeout": 5, "upstream_connect_timeout": 1 }
            }
            """);

        Assert.Equal(2, config.Upstreams.Count);
        Assert.Equal("MY_KEY", config.Upstreams[0].ApiKeyEnv);
        Assert.Equal(30, config.Upstreams[0].Timeout);
        Assert.Equal(["llama-3"], config.Upstreams[1].Models);
        Assert.Equal("llama-3", config.Aliases["gpt-4o"]);
        Assert.Equal(["sk-1", "sk-2"], config.ApiKeys);
        Assert.Equal(0, config.Settings["limits.queue_length"]);
    }

    [Fact]
    public void The_images_object_refines_the_image_options()
    {
        var config = Parse("""
            { "images": { "public_base_url": "https://capa.example.com/", "trust_forwarded_headers": true, "url_lifetime_minutes": 5,
                          "max_file_bytes": 1048576, "queue_length": 2, "revise_prompts_with": "", "background_removal_model": "briaai/RMBG-1.4" } }
            """);

        var options = config.Images!.ApplyTo(new Capa.Server.Images.ImageOptions { ModelsDirectory = "/m" });

        Assert.Equal("https://capa.example.com", options.PublicBaseUrl);
        Assert.True(options.TrustForwardedHeaders);
        Assert.Equal(TimeSpan.FromMinutes(5), options.UrlLifetime);
        Assert.Equal(1048576, options.MaxFileBytes);
        Assert.Equal(2, options.QueueLength);
        Assert.Equal("", options.RevisePromptsWith);
        Assert.Equal("briaai/RMBG-1.4", options.BackgroundRemovalModel);
        Assert.Equal("/m", options.ModelsDirectory);
    }

    [Fact]
    public void Model_management_is_on_unless_the_file_or_the_options_turn_it_off()
    {
        Assert.Null(Parse("{}").Settings.GetValueOrDefault("model_management"));
        Assert.False((bool)Parse("""{"model_management": false}""").Settings["model_management"]);
        Assert.Throws<CapaConfigException>(() => Parse("""{"model_management": "no"}"""));

        var path = Path.Combine(Path.GetTempPath(), $"capa-config-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, """{"model_management": false}""");
            Assert.True(ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = _ => null }).ModelManagement);
            Assert.False(ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null }).ModelManagement);
            Assert.False(ServerSettings.Resolve(new CapaServerOptions { ModelManagement = false, GetEnvironmentVariable = _ => null }).ModelManagement);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""{"upstream": []}""", "upstream")]
    [InlineData("""{"upstreams": [{"name": "a", "base_url": "ftp://x"}]}""", "base_url")]
    [InlineData("""{"upstreams": [{"name": "", "base_url": "http://x"}]}""", "name")]
    [InlineData("""{"upstreams": [{"name": "a", "base_url": "http://x"}, {"name": "a", "base_url": "http://y"}]}""", "twice")]
    [InlineData("""{"upstreams": [{"name": "a", "base_url": "http://x", "api_key": "k", "api_key_env": "E"}]}""", "not both")]
    [InlineData("""{"upstreams": [{"name": "a", "base_url": "http://x", "models": []}]}""", "models")]
    [InlineData("""{"upstreams": [{"name": "a", "base_url": "http://x", "timeout": 0}]}""", "timeout")]
    [InlineData("""{"limits": {"max_body_bytes": -1}}""", "limits")]
    [InlineData("""{"limits": {"queue_length": -1}}""", "limits")]
    [InlineData("""{"limits": {"kv_cache_bytes": 0}}""", "limits")]
    [InlineData("""{"limits": {"prefix_cache_bytes": -1}}""", "limits")]
    [InlineData("""{"limits": {"generation_queue_length": -1}}""", "limits")]
    [InlineData("""{"api_keys": [""]}""", "api_keys")]
    [InlineData("""{"aliases": {"gpt-4o": ""}}""", "aliases")]
    [InlineData("""{"api_keys": "sk-1"}""", "api_keys")]
    [InlineData("""{"upstreams": [""", "test.json")]
    [InlineData("null", "empty")]
    [InlineData("""{"images": {"public_base_url": "ftp://x"}}""", "images.public_base_url")]
    [InlineData("""{"images": {"public_base_url": "https://x/?a=1"}}""", "images.public_base_url")]
    [InlineData("""{"images": {"url_lifetime_minutes": 0}}""", "images.url_lifetime_minutes")]
    [InlineData("""{"images": {"queue_length": -1}}""", "images.queue_length")]
    [InlineData("""{"images": {"revise_prompt": "x"}}""", "revise_prompt")]
    public void InvalidConfig_SaysWhatToFix(string json, string expected)
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse(json));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsAClearError()
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-missing-" + Guid.NewGuid().ToString("N") + ".json");
        var error = Assert.Throws<CapaConfigException>(() => CapaConfigFile.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_MergeOptionsFileAndEnvironment()
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-config-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """
            { "upstreams": [{ "name": "file", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "FILE_KEY", "models": ["m"] }],
              "aliases": { "gpt-4o": "m", "tts-1": "x" }, "api_keys": ["sk-file"], "limits": { "max_body_bytes": 2048 } }
            """);
        try
        {
            var env = new Dictionary<string, string> { ["FILE_KEY"] = "file-secret", ["OPENAI_API_KEY"] = "env-secret", ["OPENAI_BASE_URL"] = "http://127.0.0.1:8/v1" };
            var settings = ServerSettings.Resolve(new CapaServerOptions
            {
                ConfigFile = path,
                ApiKeys = ["sk-cli"],
                Aliases = new Dictionary<string, string> { ["tts-1"] = "y" },
                GetEnvironmentVariable = name => env.GetValueOrDefault(name),
            });

            Assert.Equal(["sk-cli", "sk-file"], settings.ApiKeys);
            Assert.Equal(2048, settings.MaxBodyBytes);
            Assert.Equal("m", settings.Aliases["gpt-4o"]);
            Assert.Equal("y", settings.Aliases["tts-1"]);
            Assert.Equal("file-secret", settings.Upstreams.Single(u => u.Name == "file").ApiKey);
            var openai = settings.Upstreams.Single(u => u.Name == "openai");
            Assert.Equal("env-secret", openai.ApiKey);
            Assert.Equal("http://127.0.0.1:8/v1", openai.BaseUrl.ToString());
            Assert.True(openai.ServesAnyModel);

            var missingEnv = Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null }));
            Assert.Contains("FILE_KEY", missingEnv.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""{"q4_accuracy": "file"}""", null)]
    [InlineData("""{"q4_accuracy": "FILE"}""", null)]
    [InlineData("""{"q4_accuracy": 4}""", 4)]
    [InlineData("""{"q4_accuracy": "4"}""", 4)]
    [InlineData("""{"q4_accuracy": 0}""", 0)]
    public void Q4Accuracy_IsFileOrALevel(string json, int? level)
    {
        var config = Parse(json);

        Assert.Equal(new Q4Accuracy(level), config.Settings["q4_accuracy"]);
    }

    [Theory]
    [InlineData("""{"q4_accuracy": "fast"}""")]
    [InlineData("""{"q4_accuracy": 5}""")]
    [InlineData("""{"q4_accuracy": -1}""")]
    [InlineData("""{"q4_accuracy": 4.5}""")]
    [InlineData("""{"q4_accuracy": true}""")]
    public void Q4Accuracy_OtherValues_SayWhatIsExpected(string json)
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse(json));

        Assert.Contains("q4_accuracy must be 'file'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Q4Accuracy_TheOptionWinsOverTheFile_AndTheDefaultIs4()
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-config-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{ "q4_accuracy": "file" }""");
        try
        {
            Assert.Equal(Q4Accuracy.Default, ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = _ => null }).Q4Accuracy);
            Assert.Equal(4, Q4Accuracy.Default.Level);
            Assert.Equal(Q4Accuracy.File, ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null }).Q4Accuracy);
            Assert.Equal(new Q4Accuracy(4), ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, Q4Accuracy = new Q4Accuracy(4), GetEnvironmentVariable = _ => null }).Q4Accuracy);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GenerationLimits_TheOptionWinsOverTheFile_AndNeitherLeavesTheEnginesDefaults()
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-config-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{ "limits": { "kv_cache_bytes": 2147483648, "generation_queue_length": 0 } }""");
        try
        {
            var none = ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = _ => null });
            Assert.Equal((null, null), (none.KvCacheBudgetBytes, none.GenerationQueueLength));
            var file = ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null });
            Assert.Equal((2147483648L, 0), (file.KvCacheBudgetBytes, file.GenerationQueueLength));
            var option = ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, KvCacheBudgetBytes = 1 << 20, GenerationQueueLength = 8, GetEnvironmentVariable = _ => null });
            Assert.Equal((1L << 20, 8), (option.KvCacheBudgetBytes, option.GenerationQueueLength));
            Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { KvCacheBudgetBytes = 0, GetEnvironmentVariable = _ => null }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PrefixCacheBytes_TheOptionWinsOverTheFile_AndZeroIsAllowed()
    {
        var path = Path.Combine(Path.GetTempPath(), "capa-config-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{ "limits": { "prefix_cache_bytes": 0 } }""");
        try
        {
            Assert.Null(ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = _ => null }).PrefixCacheBytes);
            Assert.Equal(0L, ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, GetEnvironmentVariable = _ => null }).PrefixCacheBytes);
            Assert.Equal(1L << 30, ServerSettings.Resolve(new CapaServerOptions { ConfigFile = path, PrefixCacheBytes = 1L << 30, GetEnvironmentVariable = _ => null }).PrefixCacheBytes);
            Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { PrefixCacheBytes = -1, GetEnvironmentVariable = _ => null }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BodyLimitAboveOneGiB_IsRefused()
    {
        var error = Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { MaxBodyBytes = (1L << 30) + 1, GetEnvironmentVariable = _ => null }));
        Assert.Contains("at most", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoOpenAIKey_NoOpenAIUpstream()
    {
        var settings = ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = name => name == "OPENAI_BASE_URL" ? "http://x/v1" : null });
        Assert.Empty(settings.Upstreams);
    }
}
