using System.Net;
using Capa.Cli.Commands;
using Capa.Cli.Tests.Fakes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Capa.Cli.Tests.Commands;

/// <summary>
/// <c>capa gpt create</c> gives up on a vector store that never finishes indexing once its wait (10 minutes) has passed
/// on the command's clock: a clock that moves six minutes per reading ends the wait after one poll.
/// </summary>
public sealed class GptCommandIndexingTimeoutTests : IAsyncLifetime
{
    private const string VectorStore = """
        {"id":"vs_stuck","object":"vector_store","created_at":1700000000,"name":"stuck","usage_bytes":0,
         "file_counts":{"in_progress":1,"completed":0,"failed":0,"cancelled":0,"total":1},
         "status":"in_progress","last_active_at":1700000000,"metadata":{}}
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("capa-gpt-clock-").FullName;
    private WebApplication _app = null!;
    private string _baseUrl = null!;
    private int _polls;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1));
        _app = builder.Build();
        _app.MapPost("/v1/files", context => JsonAsync(context, """
            {"id":"file-1","object":"file","bytes":5,"created_at":1700000000,"filename":"note.md","purpose":"assistants","status":"processed"}
            """));
        _app.MapPost("/v1/vector_stores", context => JsonAsync(context, VectorStore));
        _app.MapGet("/v1/vector_stores/vs_stuck", context =>
        {
            Interlocked.Increment(ref _polls);
            return JsonAsync(context, VectorStore);
        });
        await _app.StartAsync();
        _baseUrl = _app.Urls.First().TrimEnd('/') + "/v1";
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Create_stops_waiting_for_indexing_when_the_wait_has_passed_on_its_clock()
    {
        var note = Path.Combine(_root, "note.md");
        await File.WriteAllTextAsync(note, "notes");
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.FromMinutes(6) };

        var (exit, output) = await CommandHarness.RunAsync(
            GptCommand.Create(clock), "create", "--name", "stuck", "--file", note, "--base-url", _baseUrl, "--api-key", "unused");

        Assert.Equal(1, exit);
        Assert.Contains("still being indexed after 10 minutes (vector store vs_stuck)", output, StringComparison.Ordinal);
        Assert.Equal(1, Volatile.Read(ref _polls));
    }

    private static Task JsonAsync(HttpContext context, string json)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }
}
