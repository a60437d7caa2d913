using System.Text;
using System.Text.Json.Nodes;
using Capa.Engine.Text.Generation;
using Capa.Server.Configuration;
using Capa.Server.Hosting;

namespace Capa.Server.Tests.Configuration;

/// <summary>
/// The declared settings (<see cref="SettingAttribute"/> on <see cref="CapaServerOptions"/>): one declaration drives the
/// config-file reader, the flags' parsing and help, and the resolution by precedence.
/// </summary>
public sealed class SettingCatalogTests
{
    private static CapaConfigFile Parse(string json) => CapaConfigFile.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    public static TheoryData<string> Keys() => [.. SettingCatalog.Server.Settings.Select(s => s.Key)];

    [Fact]
    public void The_server_declares_its_limits_q4_accuracy_and_model_management_each_with_help()
    {
        Assert.Equal(
            ["model_management", "limits.max_body_bytes", "limits.max_file_bytes", "limits.max_json_depth", "limits.max_concurrent_requests",
             "limits.queue_length", "limits.kv_cache_bytes", "limits.generation_queue_length", "limits.prefix_cache_bytes",
             "limits.vector_cache_bytes", "limits.upstream_timeout", "limits.upstream_connect_timeout", "q4_accuracy"],
            SettingCatalog.Server.Settings.Select(s => s.Key));
        Assert.All(SettingCatalog.Server.Settings, s => Assert.False(string.IsNullOrWhiteSpace(s.Help), s.Key));
        Assert.Equal(["--kv-cache-bytes", "--generation-queue", "--prefix-cache-bytes", "--q4-accuracy"], SettingCatalog.Server.Settings.Where(s => s.Flag is not null).Select(s => s.Flag));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Each_setting_resolves_by_its_declared_precedence(string key)
    {
        var setting = SettingCatalog.Server.ByKey(key)!;
        var (fileText, optionText) = setting.Kind switch
        {
            SettingKind.Q4Accuracy => ("\"file\"", "2"),
            SettingKind.Boolean => ("false", "true"),
            _ => ("2", "3"),
        };
        var fileValue = setting.ParseText("test", fileText.Trim('"'));
        var optionValue = setting.ParseText("test", optionText);

        var withFile = new CapaServerOptions { ConfigFile = WriteConfig(key, fileText), GetEnvironmentVariable = _ => null };
        var withOption = SettingCatalog.With(withFile, setting, optionValue);
        try
        {
            var fromBoth = setting.Property.GetValue(ServerSettings.Resolve(withOption));
            var fromFile = setting.Property.GetValue(ServerSettings.Resolve(withFile));
            var fromOption = setting.Property.GetValue(ServerSettings.Resolve(withOption with { ConfigFile = null }));

            Assert.Equal(setting.Precedence switch
            {
                SettingPrecedence.FileOverOptions => fileValue,
                SettingPrecedence.OptionsOverFile => optionValue,
                _ => false, // AllMustAllow: the file's false wins over the option's true.
            }, fromBoth);
            Assert.Equal(fileValue, fromFile);
            Assert.Equal(optionValue, fromOption);
        }
        finally
        {
            File.Delete(withFile.ConfigFile!);
        }
    }

    [Fact]
    public void A_key_of_limits_that_is_no_setting_is_refused_naming_it_and_the_keys_limits_takes()
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse("""{"limits": {"max_body_byte": 1024}}"""));

        Assert.Contains("'max_body_byte'", error.Message, StringComparison.Ordinal);
        Assert.Contains("max_body_bytes, ", error.Message, StringComparison.Ordinal);
        Assert.Contains("test.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"limits": 5}""", "limits must be an object")]
    [InlineData("""{"limits": {"max_json_depth": 1025}}""", "limits.max_json_depth must be a whole number from 1 to 1024")]
    [InlineData("""{"limits": {"max_concurrent_requests": 1.5}}""", "limits.max_concurrent_requests must be 1 or more")]
    [InlineData("""{"limits": {"upstream_timeout": "5"}}""", "limits.upstream_timeout must be a positive number of seconds")]
    [InlineData("""{"limits": {"max_body_bytes": 1073741825}}""", "limits.max_body_bytes must be a positive number of bytes, at most 1073741824")]
    [InlineData("""{"model_management": "no"}""", "model_management must be true or false")]
    public void Values_outside_a_declaration_say_what_it_takes(string json, string expected)
    {
        var error = Assert.Throws<CapaConfigException>(() => Parse(json));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_leaves_a_setting_as_if_absent_and_later_keys_win()
    {
        Assert.Empty(Parse("""{"limits": {"kv_cache_bytes": null}, "q4_accuracy": null}""").Settings);
        Assert.Equal(8L, Parse("""{"limits": {"kv_cache_bytes": 4}, "limits": {"kv_cache_bytes": 8}}""").Settings["limits.kv_cache_bytes"]);
    }

    [Fact]
    public void A_flag_help_says_what_it_overrides()
    {
        var setting = SettingCatalog.Server.ByFlag("--kv-cache-bytes")!;

        Assert.StartsWith(setting.Help, setting.FlagHelp, StringComparison.Ordinal);
        Assert.EndsWith(" Overrides the config file's limits.kv_cache_bytes.", setting.FlagHelp, StringComparison.Ordinal);
    }

    [Fact]
    public void An_environment_variable_gives_a_setting_below_the_options_and_the_file()
    {
        var catalog = SettingCatalog.For(typeof(DemoOptions));
        var setting = Assert.Single(catalog.Settings);
        string? Env(string name) => name == "DEMO_SIZE" ? "2K" : null;

        Assert.Equal(2048L, Resolve(new DemoOptions(), new Dictionary<string, object>()).Size);
        Assert.Equal(5L, Resolve(new DemoOptions(), new Dictionary<string, object> { ["demo.size"] = 5L }).Size);
        Assert.Equal(7L, Resolve(new DemoOptions { Size = 7 }, new Dictionary<string, object> { ["demo.size"] = 5L }).Size);
        Assert.EndsWith("Overrides the config file's demo.size and $DEMO_SIZE.", setting.FlagHelp, StringComparison.Ordinal);

        var error = Assert.Throws<CapaConfigException>(() => catalog.Resolve(new DemoOptions(), new DemoOptions(), new Dictionary<string, object>(), _ => "lots"));
        Assert.Contains("DEMO_SIZE must be a positive number of bytes", error.Message, StringComparison.Ordinal);

        DemoOptions Resolve(DemoOptions options, IReadOnlyDictionary<string, object> file)
        {
            var target = options with { };
            catalog.Resolve(options, target, file, Env);
            return target;
        }
    }

    [Fact]
    public void A_declaration_that_does_not_fit_its_property_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => SettingCatalog.For(typeof(MisdeclaredOptions)));
    }

    [Fact]
    public void Programmatic_values_are_checked_against_the_same_declaration()
    {
        var error = Assert.Throws<CapaConfigException>(() => ServerSettings.Resolve(new CapaServerOptions { MaxJsonDepth = 0, GetEnvironmentVariable = _ => null }));

        Assert.Contains("CapaServerOptions.MaxJsonDepth must be a whole number from 1 to 1024", error.Message, StringComparison.Ordinal);
        Assert.Equal(Q4Accuracy.Default, ServerSettings.Resolve(new CapaServerOptions { GetEnvironmentVariable = _ => null }).Q4Accuracy);
    }

    private static string WriteConfig(string key, string valueJson)
    {
        var root = new JsonObject();
        var value = JsonNode.Parse(valueJson);
        if (key.Split('.') is [var section, var name])
        {
            root[section] = new JsonObject { [name] = value };
        }
        else
        {
            root[key] = value;
        }

        var path = Path.Combine(Path.GetTempPath(), "capa-setting-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    internal sealed record DemoOptions
    {
        [Setting("demo.size", SettingKind.Bytes, Min = 1, Flag = "--demo-size", EnvironmentVariable = "DEMO_SIZE",
            Precedence = SettingPrecedence.OptionsOverFile, Help = "A size.")]
        public long? Size { get; init; }
    }

    internal sealed record MisdeclaredOptions
    {
        [Setting("x", SettingKind.Bytes, Help = "Bytes in an int.")]
        public int X { get; init; }
    }
}
