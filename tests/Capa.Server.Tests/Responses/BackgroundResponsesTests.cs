using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Storage;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental.

namespace Capa.Server.Tests.Responses;

public sealed class BackgroundResponsesTests(ResponsesServerFixture fixture) : IClassFixture<ResponsesServerFixture>
{
    private HttpClient Http => fixture.Server.Http;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static List<JsonElement> Events(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(b => JsonElement.Parse(b.Split('\n').Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]))
            .ToList();

    private async Task<JsonElement> PollUntilFinishedAsync(string id)
    {
        for (var i = 0; i < 600; i++)
        {
            var response = JsonElement.Parse(await Http.GetStringAsync($"/v1/responses/{id}"));
            if (response.GetProperty("status").GetString() is not ("queued" or "in_progress"))
            {
                return response;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{id} did not finish in 60 s.");
    }

    [Fact]
    public async Task A_background_response_answers_queued_then_completes_and_can_be_polled()
    {
        var client = fixture.Client();
        var queued = (await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("Hi")]) { BackgroundModeEnabled = true })).Value;
        Assert.Equal(ResponseStatus.Queued, queued.Status);
        Assert.True(queued.BackgroundModeEnabled);

        var done = await PollUntilFinishedAsync(queued.Id);
        Assert.Equal("completed", done.GetProperty("status").GetString());
        var polled = (await client.GetResponseAsync(queued.Id)).Value;
        Assert.Equal("local answer", polled.GetOutputText());
    }

    [Fact]
    public async Task A_background_stream_resumes_after_any_sequence_number_and_accumulates_to_the_stored_response()
    {
        using var create = await Http.PostAsync("/v1/responses", Json("""{"model":"local-chat","input":"Hi","background":true,"stream":true}"""));
        var live = Events(await create.Content.ReadAsStringAsync());
        Assert.Equal("response.created", live[0].GetProperty("type").GetString());
        Assert.Equal("response.completed", live[^1].GetProperty("type").GetString());
        Assert.Equal(Enumerable.Range(0, live.Count), live.Select(e => e.GetProperty("sequence_number").GetInt32()));
        var id = live[^1].GetProperty("response").GetProperty("id").GetString();
        Assert.Equal(live[^1].GetProperty("response").GetRawText(), await Http.GetStringAsync($"/v1/responses/{id}"));

        var resumed = Events(await Http.GetStringAsync($"/v1/responses/{id}?stream=true&starting_after=3"));
        Assert.Equal(live.Skip(4).Select(e => e.GetRawText()), resumed.Select(e => e.GetRawText()));
        var all = Events(await Http.GetStringAsync($"/v1/responses/{id}?stream=true"));
        Assert.Equal(live.Select(e => e.GetRawText()), all.Select(e => e.GetRawText()));

        using var bad = await Http.GetAsync($"/v1/responses/{id}?stream=true&starting_after=x");
        await ErrorAssert.IsOpenAIErrorAsync(bad, HttpStatusCode.BadRequest, param: "starting_after");
    }

    [Fact]
    public async Task Cancelling_a_running_background_response_is_final()
    {
        var client = fixture.Client();
        // A model that generates until cancelled, so the cancel always meets a running response.
        var queued = (await client.CreateResponseAsync(new CreateResponseOptions("local-endless", [ResponseItem.CreateUserMessageItem("Write a lot")])
        {
            BackgroundModeEnabled = true,
            MaxOutputTokenCount = 1500,
        })).Value;
        var cancelled = (await client.CancelResponseAsync(queued.Id)).Value;
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);

        // The run stops; a late finish cannot overwrite the cancel.
        await Task.Delay(500);
        Assert.Equal(ResponseStatus.Cancelled, (await client.GetResponseAsync(queued.Id)).Value.Status);
        Assert.Equal(ResponseStatus.Cancelled, (await client.CancelResponseAsync(queued.Id)).Value.Status);
    }

    [Fact]
    public async Task Only_background_responses_can_be_cancelled_or_streamed_again()
    {
        var created = JsonElement.Parse(await (await Http.PostAsync("/v1/responses", Json("""{"model":"local-chat","input":"Hi"}"""))).Content.ReadAsStringAsync());
        var id = created.GetProperty("id").GetString();
        using var cancel = await Http.PostAsync($"/v1/responses/{id}/cancel", null);
        await ErrorAssert.IsOpenAIErrorAsync(cancel, HttpStatusCode.BadRequest);
        using var stream = await Http.GetAsync($"/v1/responses/{id}?stream=true");
        await ErrorAssert.IsOpenAIErrorAsync(stream, HttpStatusCode.BadRequest, param: "stream");
        using var missing = await Http.PostAsync("/v1/responses/resp_missing/cancel", null);
        await ErrorAssert.IsOpenAIErrorAsync(missing, HttpStatusCode.NotFound);
        using var backgroundWithoutStore = await Http.PostAsync("/v1/responses", Json("""{"model":"local-chat","input":"Hi","background":true,"store":false}"""));
        await ErrorAssert.IsOpenAIErrorAsync(backgroundWithoutStore, HttpStatusCode.BadRequest, param: "background");
    }

    [Fact]
    public async Task A_response_left_in_progress_by_a_crashed_server_is_marked_failed_on_start()
    {
        var directory = Path.Combine(Path.GetTempPath(), "capa-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            // What a server killed mid-response leaves behind: an in_progress response with a live-looking lease.
            var id = StoreIds.NewResponseId();
            await using (var store = ResponseStores.CreateSqlite(Path.Combine(directory, ResponseStores.SqliteFileName)))
            {
                await store.InitializeAsync(CancellationToken.None);
                await store.CreateResponseAsync(new StoredResponse
                {
                    Id = id,
                    CreatedAt = 1_700_000_000,
                    Status = ResponseStatuses.InProgress,
                    Owner = "srv_dead",
                    LeaseExpiresAt = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds(),
                    Json = JsonSerializer.Serialize(
                        new Capa.Protocol.Responses.ResponseObject { Id = id, CreatedAt = 1_700_000_000, Status = ResponseStatuses.InProgress, Background = true, Model = "local-chat" },
                        Capa.Protocol.Responses.ResponsesJsonContext.Default.ResponseObject),
                }, [], null, CancellationToken.None);
                await store.AppendEventsAsync(id, [new StoredEvent(0, $$"""{"type":"response.created","sequence_number":0}""")], CancellationToken.None);
            }

            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { StateDirectory = directory });
            var response = JsonElement.Parse(await server.Http.GetStringAsync($"/v1/responses/{id}"));
            Assert.Equal("failed", response.GetProperty("status").GetString());
            Assert.Equal("server_error", response.GetProperty("error").GetProperty("code").GetString());
            var events = Events(await server.Http.GetStringAsync($"/v1/responses/{id}?stream=true"));
            Assert.Equal(["response.created", "response.failed"], events.Select(e => e.GetProperty("type").GetString()));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
