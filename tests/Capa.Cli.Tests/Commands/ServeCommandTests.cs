using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Engine.Generation;

namespace Capa.Cli.Tests.Commands;

public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("file", null)]
    [InlineData("4", 4)]
    [InlineData(" 0 ", 0)]
    public void Q4Accuracy_IsFileOrALevel(string value, int? level) =>
        Assert.Equal(new Q4Accuracy(level), ServeCommand.ParseQ4Accuracy(value));

    [Fact]
    public void Q4Accuracy_NotGiven_LeavesItToTheConfigFile() => Assert.Null(ServeCommand.ParseQ4Accuracy(null));

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
}
