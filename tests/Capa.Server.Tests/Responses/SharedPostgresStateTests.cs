using System.Text;
using System.Text.Json;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Capa.Storage.Tests.Sql;

namespace Capa.Server.Tests.Responses;

/// <summary>Two servers on one PostgreSQL store, as behind a load balancer: either continues what the other stored.</summary>
public sealed class SharedPostgresStateTests(PostgresCluster cluster) : IClassFixture<PostgresCluster>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [SkippableFact]
    public async Task A_chain_and_a_conversation_continue_on_another_server()
    {
        Skip.If(cluster.Unavailable is not null, cluster.Unavailable);
        var connection = await cluster.CreateDatabaseAsync(CancellationToken.None);
        var local = new LocalTestProvider();
        var options = new CapaServerOptions { StatePostgresConnectionString = connection };
        await using var a = await CapaTestServer.StartAsync(options, b => b.Services.AddChatProvider(local));
        await using var b = await CapaTestServer.StartAsync(options, b => b.Services.AddChatProvider(local));

        using var first = await a.Http.PostAsync("/v1/responses", Json("""{"model":"local-chat","input":"one","user":"pg-chain"}"""));
        var created = JsonElement.Parse(await first.Content.ReadAsStringAsync());
        var id = created.GetProperty("id").GetString();
        Assert.Equal(created.GetRawText(), await b.Http.GetStringAsync($"/v1/responses/{id}"));

        using var second = await b.Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"two","previous_response_id":"{{id}}","user":"pg-chain"}"""));
        Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        Assert.Equal(["one", "local answer", "two"], local.Calls["pg-chain"].Request.Messages.Select(m => m.GetText()));

        using var conversation = await a.Http.PostAsync("/v1/conversations", Json("""{"items":[{"role":"user","content":"hello"}]}"""));
        var conversationId = JsonElement.Parse(await conversation.Content.ReadAsStringAsync()).GetProperty("id").GetString();
        using var turn = await b.Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"again","conversation":"{{conversationId}}"}"""));
        Assert.True(turn.IsSuccessStatusCode, await turn.Content.ReadAsStringAsync());
        var items = JsonElement.Parse(await a.Http.GetStringAsync($"/v1/conversations/{conversationId}/items?order=asc"));
        Assert.Equal(["hello", "again", "local answer"], items.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
    }
}
