using System.Text.Json;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa chat</c> against a fake OpenAI endpoint, streamed and not.</summary>
public sealed class ChatCommandTests : IAsyncLifetime
{
    private FakeOpenAiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnATerminal_ControlCharactersAreEscaped_ExceptNewlineAndTab(bool noStream)
    {
        var (exit, output) = await RunAsync(terminal: true, ["Hi", "--model", "control", .. noStream ? new[] { "--no-stream" } : []]);

        Assert.Equal(0, exit);
        Assert.Contains("a^[[31mred^[]0;title^G^B^_\tb\nc\nd^?<U+009B>e", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output, c => char.IsControl(c) && c is not ('\n' or '\t'));
    }

    [Fact]
    public async Task Piped_TheAnswerIsWrittenAsReceived()
    {
        var (exit, output) = await RunAsync(terminal: false, ["Hi", "--model", "control"]);

        Assert.Equal(0, exit);
        Assert.Contains(FakeOpenAiServer.ControlText, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Finish_IsOpenAIsWireName(bool noStream)
    {
        var (exit, output) = await RunAsync(terminal: true, ["Hi", "--model", "cut", .. noStream ? new[] { "--no-stream" } : []]);

        Assert.Equal(0, exit);
        Assert.Contains("finish length ·", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Length", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxTokensSeedAndTemperature_AreSent()
    {
        var (exit, _) = await RunAsync(terminal: false, ["Hi", "--max-tokens", "17", "--seed", "123456789012", "--temperature", "0.25"]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        var root = request.RootElement;

        // The SDK names the budget max_completion_tokens, OpenAI's current name for max_tokens.
        Assert.Equal(17, root.GetProperty("max_completion_tokens").GetInt32());
        Assert.Equal(123456789012, root.GetProperty("seed").GetInt64());
        Assert.Equal(0.25, root.GetProperty("temperature").GetDouble(), 6);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.9")]
    [InlineData("1")]
    public async Task TopP_IsSent_FromZeroToOne(string value)
    {
        var (exit, _) = await RunAsync(terminal: false, ["Hi", "--top-p", value]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        Assert.Equal(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), request.RootElement.GetProperty("top_p").GetDouble(), 6);
    }

    [Fact]
    public async Task ServerErrorMessages_AreEscapedOnATerminal()
    {
        var (exit, output) = await RunAsync(terminal: true, ["Hi", "--model", "error-control"]);

        Assert.Equal(1, exit);
        Assert.Contains("bad ^[[2Jmodel", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output, c => char.IsControl(c) && c is not ('\n' or '\t'));
    }

    [Fact]
    public async Task WithoutTheOptions_NoneIsSent()
    {
        var (exit, _) = await RunAsync(terminal: false, ["Hi"]);

        Assert.Equal(0, exit);
        using var request = JsonDocument.Parse(_server.LastRequestBody!);
        Assert.False(request.RootElement.TryGetProperty("max_completion_tokens", out _));
        Assert.False(request.RootElement.TryGetProperty("max_tokens", out _));
        Assert.False(request.RootElement.TryGetProperty("seed", out _));
        Assert.False(request.RootElement.TryGetProperty("temperature", out _));
    }

    [Theory]
    [InlineData("--max-tokens", "0", "--max-tokens must be at least 1")]
    [InlineData("--temperature", "2.5", "--temperature must be between 0 and 2")]
    [InlineData("--temperature", "-1", "--temperature must be between 0 and 2")]
    [InlineData("--top-p", "1.5", "--top-p must be between 0 and 1")]
    [InlineData("--top-p", "-0.1", "--top-p must be between 0 and 1")]
    public async Task OutOfRangeOptions_AreRefusedBeforeAnyRequest(string option, string value, string message)
    {
        var (exit, output) = await RunAsync(terminal: false, ["Hi", option, value]);

        Assert.Equal(1, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.Null(_server.LastRequestBody);
    }

    private Task<(int ExitCode, string Output)> RunAsync(bool terminal, string[] args) =>
        CommandHarness.RunAsync(ChatCommand.Create(_ => terminal), [.. args, "--base-url", _server.BaseUrl.ToString(), "--api-key", "test"]);
}
