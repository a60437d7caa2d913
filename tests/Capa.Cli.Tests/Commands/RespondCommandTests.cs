using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Capa.Protocol;
using Capa.Server.Hosting;
using Capa.Server.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Capa.Cli.Tests.Commands;

/// <summary><c>capa respond</c> against a real Capa server (state in a temporary folder) with a scripted model.</summary>
public sealed class RespondCommandTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("capa-respond-").FullName;
    // Answers with how many user messages it saw and the last one, so chaining is visible in the text.
    private readonly AnsweringChatProvider _provider = new(request =>
    {
        var users = request.Messages.Where(m => m.Role == ChatRole.User).ToList();
        return $"heard {users.Count} user message(s), last: {users[^1].GetText()}";
    });
    private WebApplication _app = null!;
    private string _baseUrl = null!;

    public async Task InitializeAsync()
    {
        _app = CapaServer.Build(
            new CapaServerOptions { Urls = ["http://127.0.0.1:0"], StateDirectory = _state, GetEnvironmentVariable = _ => null },
            b =>
            {
                b.Logging.ClearProviders();
                b.Services.AddChatProvider(_provider);
            });
        await _app.StartAsync();
        _baseUrl = CapaServer.GetAddresses(_app).Single().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_state, recursive: true);
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        CommandHarness.RunAsync(RespondCommand.Create(), [.. args, "--model", "echo", "--base-url", _baseUrl, "--api-key", "unused"]);

    private static string IdOf(string output) =>
        output.ReplaceLineEndings("\n").Split('\n').Single(l => l.StartsWith("response_id: ", StringComparison.Ordinal))["response_id: ".Length..];

    [Fact]
    public async Task Prints_the_answer_and_an_id_that_chains_the_next_turn()
    {
        var (exit, output) = await RunAsync("first question");
        Assert.Equal(0, exit);
        Assert.StartsWith("heard 1 user message(s), last: first question", output, StringComparison.Ordinal);
        var id = IdOf(output);
        Assert.StartsWith("resp_", id, StringComparison.Ordinal);

        var (exit2, output2) = await RunAsync("second question", "--previous", id, "--stream");
        Assert.Equal(0, exit2);
        Assert.StartsWith("heard 2 user message(s), last: second question", output2, StringComparison.Ordinal);
        Assert.NotEqual(id, IdOf(output2));
    }

    [Fact]
    public async Task An_unknown_previous_response_is_a_clear_error()
    {
        // The message goes to the process's standard error ("error: the server answered 404: ...").
        var (exit, output) = await RunAsync("hello", "--previous", "resp_missing");
        Assert.Equal(1, exit);
        Assert.DoesNotContain("response_id:", output, StringComparison.Ordinal);
    }
}
