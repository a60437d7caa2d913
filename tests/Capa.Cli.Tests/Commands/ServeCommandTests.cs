using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Engine.Text.Generation;
using Capa.Server.Configuration;

namespace Capa.Cli.Tests.Commands;

public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("file", null)]
    [InlineData("4", 4)]
    [InlineData(" 0 ", 0)]
    public void Q4Accuracy_IsFileOrALevel(string value, int? level) =>
        Assert.Equal(new Q4Accuracy(level), ServeCommand.ParseFlag("--q4-accuracy", value));

    [Fact]
    public void Q4Accuracy_NotGiven_LeavesItToTheConfigFile() => Assert.Null(ServeCommand.ParseFlag("--q4-accuracy", null));

    [Theory]
    [InlineData("fast")]
    [InlineData("5")]
    [InlineData("-1")]
    public async Task Q4Accuracy_OtherValues_AreRefusedBeforeTheServerStarts(string value)
    {
        var (exit, output) = await CommandHarness.RunAsync(ServeCommand.Create(), "--q4-accuracy", value, "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exit);
        Assert.Contains("--q4-accuracy must be 'file'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("512K", 512L << 10)]
    [InlineData("512m", 512L << 20)]
    [InlineData(" 4G ", 4L << 30)]
    public void KvCacheBytes_IsBytesOrABinarySuffix(string value, long expected) =>
        Assert.Equal(expected, ServeCommand.ParseFlag("--kv-cache-bytes", value));

    [Fact]
    public void KvCacheBytes_NotGiven_LeavesItToTheConfigFile() => Assert.Null(ServeCommand.ParseFlag("--kv-cache-bytes", null));

    [Theory]
    [InlineData("0")]
    [InlineData("-1G")]
    [InlineData("4GB")]
    [InlineData("lots")]
    [InlineData("99999999999G")]
    public async Task KvCacheBytes_OtherValues_AreRefusedBeforeTheServerStarts(string value)
    {
        var (exit, output) = await CommandHarness.RunAsync(ServeCommand.Create(), "--kv-cache-bytes", value, "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exit);
        Assert.Contains("--kv-cache-bytes must be a positive number of bytes", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("256M", 256L << 20)]
    public void PrefixCacheBytes_IsZeroBytesOrABinarySuffix(string value, long expected) =>
        Assert.Equal(expected, ServeCommand.ParseFlag("--prefix-cache-bytes", value));

    [Theory]
    [InlineData("-1")]
    [InlineData("1GB")]
    public async Task PrefixCacheBytes_OtherValues_AreRefusedBeforeTheServerStarts(string value)
    {
        var (exit, output) = await CommandHarness.RunAsync(ServeCommand.Create(), "--prefix-cache-bytes", value, "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exit);
        Assert.Contains("--prefix-cache-bytes must be a non-negative number of bytes", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:4318", "http://127.0.0.1:4318/")]
    [InlineData(" https://otel.example.com/ingest ", "https://otel.example.com/ingest")]
    public void OtlpEndpoint_IsAnHttpUrl(string value, string expected) => Assert.Equal(expected, ServeCommand.ParseOtlpEndpoint(value));

    [Fact]
    public void OtlpEndpoint_NotGiven_LeavesItToTheConfigFileAndEnvironment() => Assert.Null(ServeCommand.ParseOtlpEndpoint(null));

    [Theory]
    [InlineData("127.0.0.1:4318")]
    [InlineData("grpc://collector:4317")]
    [InlineData("http://collector:4318/?token=1")]
    public async Task OtlpEndpoint_OtherValues_AreRefusedBeforeTheServerStarts(string value)
    {
        var (exit, output) = await CommandHarness.RunAsync(ServeCommand.Create(), "--otlp-endpoint", value, "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exit);
        Assert.Contains("--otlp-endpoint must be an http(s) URL", output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSettingFlags_AreThoseTheServerDeclares_WithTheirHelp()
    {
        var options = ServeCommand.Create().Options.ToDictionary(o => o.Name, StringComparer.Ordinal);

        var declared = SettingCatalog.Server.Settings.Where(s => s.Flag is not null).ToArray();
        Assert.NotEmpty(declared);
        Assert.All(declared, setting => Assert.Equal(setting.FlagHelp, options[setting.Flag!].Description));
        Assert.Contains("Overrides the config file's q4_accuracy.", options["--q4-accuracy"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerationQueue_Negative_IsRefusedBeforeTheServerStarts()
    {
        var (exit, output) = await CommandHarness.RunAsync(ServeCommand.Create(), "--generation-queue", "-1", "--urls", "http://127.0.0.1:0");

        Assert.Equal(1, exit);
        Assert.Contains("--generation-queue must be 0 or more", output, StringComparison.Ordinal);
    }
}
