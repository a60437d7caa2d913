using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental.

namespace Capa.Server.Tests.Responses;

public sealed class ResponsesEndpointTests(ResponsesServerFixture fixture) : IClassFixture<ResponsesServerFixture>
{
    private static readonly string[] TextEventOrder =
    [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed",
    ];

    private HttpClient Http => fixture.Server.Http;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostAsync(string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.PostAsync("/v1/responses", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonElement.Parse(text);
    }

    private async Task<string> GetTextAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {text}");
        return text;
    }

    [Fact]
    public async Task A_text_response_through_the_sdk_has_the_answer_usage_and_is_stored()
    {
        var client = fixture.Client();
        var result = (await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("Hello")])
        {
            Instructions = "Answer briefly.",
            Metadata = { ["k"] = "v" },
        })).Value;

        Assert.StartsWith("resp_", result.Id, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.Completed, result.Status);
        Assert.Equal("local answer", result.GetOutputText());
        Assert.Equal(4, result.Usage.InputTokenCount);
        Assert.Equal(2, result.Usage.OutputTokenCount);
        Assert.Equal(6, result.Usage.TotalTokenCount);
        Assert.Equal("v", result.Metadata["k"]);
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(result.OutputItems));
        Assert.StartsWith("msg_", message.Id, StringComparison.Ordinal);

        var stored = (await client.GetResponseAsync(result.Id)).Value;
        Assert.Equal(result.Id, stored.Id);
        Assert.Equal("local answer", stored.GetOutputText());
    }

    [Fact]
    public async Task The_stored_response_is_byte_for_byte_what_create_returned()
    {
        var created = await PostAsync("""{"model":"local-chat","input":"Hi","temperature":0.5,"text":{"format":{"type":"text"}}}""");
        var id = created.GetProperty("id").GetString();
        Assert.Equal(created.GetRawText(), await GetTextAsync($"/v1/responses/{id}"));
        Assert.Equal("response", created.GetProperty("object").GetString());
        Assert.Equal(0.5, created.GetProperty("temperature").GetDouble());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("previous_response_id").ValueKind);
        Assert.Equal("output_text", created.GetProperty("output")[0].GetProperty("content")[0].GetProperty("type").GetString());
        Assert.Equal(0, created.GetProperty("output")[0].GetProperty("content")[0].GetProperty("annotations").GetArrayLength());
    }

    [Fact]
    public async Task Streamed_events_come_in_openai_order_and_accumulate_to_the_stored_response()
    {
        using var response = await Http.PostAsync("/v1/responses", Json("""{"model":"local-chat","input":"Hi","stream":true}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var blocks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var events = blocks.Select(b =>
        {
            var lines = b.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..];
            var data = JsonElement.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]);
            Assert.Equal(name, data.GetProperty("type").GetString());
            return data;
        }).ToList();

        Assert.Equal(TextEventOrder, events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.GetProperty("sequence_number").GetInt32()));

        // Accumulate: the deltas make the text, the done events carry it, and the final response is the stored one.
        var text = string.Concat(events.Where(e => e.GetProperty("type").GetString() == "response.output_text.delta").Select(e => e.GetProperty("delta").GetString()));
        Assert.Equal("local answer", text);
        Assert.Equal(text, events[6].GetProperty("text").GetString());
        var itemId = events[2].GetProperty("item").GetProperty("id").GetString();
        Assert.All(events.Skip(3).Take(6), e => Assert.Equal(itemId, e.TryGetProperty("item_id", out var direct) ? direct.GetString() : e.GetProperty("item").GetProperty("id").GetString()));
        var completed = events[^1].GetProperty("response");
        Assert.Equal(events[8].GetProperty("item").GetRawText(), completed.GetProperty("output")[0].GetRawText());
        Assert.Equal("in_progress", events[0].GetProperty("response").GetProperty("status").GetString());
        Assert.Equal(completed.GetRawText(), await GetTextAsync($"/v1/responses/{completed.GetProperty("id").GetString()}"));
    }

    [Fact]
    public async Task Streamed_text_through_the_sdk_ends_with_the_completed_response()
    {
        var client = fixture.Client();
        var updates = new List<StreamingResponseUpdate>();
        await foreach (var update in await client.CreateResponseStreamingAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("Hello")]) { StreamingEnabled = true }))
        {
            updates.Add(update);
        }

        Assert.IsType<StreamingResponseCreatedUpdate>(updates[0]);
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal("local answer", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
        Assert.Equal("local answer", completed.Response.GetOutputText());
        Assert.Equal(Enumerable.Range(0, updates.Count), updates.Select(u => u.SequenceNumber));
        Assert.Equal("local answer", (await client.GetResponseAsync(completed.Response.Id)).Value.GetOutputText());
    }

    [Fact]
    public async Task A_json_schema_response_from_the_engine_follows_the_schema()
    {
        var client = fixture.Client();
        var schema = BinaryData.FromString("""{"type":"object","properties":{"ok":{"type":"boolean"},"n":{"type":"integer","enum":[1,2,3]}},"required":["ok","n"],"additionalProperties":false}""");
        var result = (await client.CreateResponseAsync(new CreateResponseOptions(ResponsesServerFixture.Qwen, [ResponseItem.CreateUserMessageItem("Give me JSON")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("answer", schema, jsonSchemaIsStrict: true) },
            MaxOutputTokenCount = 256,
            Temperature = 0,
        })).Value;

        Assert.Equal(ResponseStatus.Completed, result.Status);
        var json = JsonNode.Parse(result.GetOutputText())!.AsObject();
        Assert.Equal(["ok", "n"], json.Select(p => p.Key).Order().Reverse());
        Assert.Contains(json["n"]!.GetValue<int>(), new[] { 1, 2, 3 });
    }

    [Fact]
    public async Task A_function_tool_round_trip_continues_with_previous_response_id()
    {
        var client = fixture.Client();
        var parameters = BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string","enum":["Paris","Oslo"]}},"required":["city"],"additionalProperties":false}""");
        var first = (await client.CreateResponseAsync(new CreateResponseOptions(ResponsesServerFixture.Qwen, [ResponseItem.CreateUserMessageItem("Weather in Paris?")])
        {
            Tools = { ResponseTool.CreateFunctionTool("get_weather", parameters, strictModeEnabled: true, "Current weather") },
            ToolChoice = ResponseToolChoice.CreateRequiredChoice(),
            ParallelToolCallsEnabled = false,
            MaxOutputTokenCount = 400,
            Temperature = 0,
        })).Value;

        // The call is an item of its own, never text.
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.StartsWith("fc_", call.Id, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(call.CallId));
        var city = JsonNode.Parse(call.FunctionArguments.ToString())!["city"]!.GetValue<string>();
        Assert.Contains(city, new[] { "Paris", "Oslo" });
        Assert.Empty(first.OutputItems.OfType<MessageResponseItem>());

        var second = (await client.CreateResponseAsync(new CreateResponseOptions(ResponsesServerFixture.Qwen, [ResponseItem.CreateFunctionCallOutputItem(call.CallId, """{"celsius":21}""")])
        {
            PreviousResponseId = first.Id,
            Tools = { ResponseTool.CreateFunctionTool("get_weather", parameters, strictModeEnabled: true, "Current weather") },
            ToolChoice = ResponseToolChoice.CreateNoneChoice(),
            MaxOutputTokenCount = 16,
        })).Value;
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Empty(second.OutputItems.OfType<FunctionCallResponseItem>());
        var inputs = new List<ResponseItem>();
        await foreach (var item in client.GetResponseInputItemsAsync(new ResponseItemCollectionOptions(second.Id)))
        {
            inputs.Add(item);
        }

        var output = Assert.IsType<FunctionCallOutputResponseItem>(Assert.Single(inputs));
        Assert.Equal(call.CallId, output.CallId);
    }

    [Fact]
    public async Task A_fifty_deep_chain_sends_every_earlier_turn_as_context()
    {
        var client = fixture.Client();
        var tag = "chain-" + Guid.NewGuid().ToString("N");
        string? previous = null;
        for (var turn = 0; turn < 50; turn++)
        {
            var options = new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem($"turn {turn}")]) { PreviousResponseId = previous, EndUserId = tag };
            if (turn == 0)
            {
                options.Instructions = "first instructions";
            }

            previous = (await client.CreateResponseAsync(options)).Value.Id;
        }

        var messages = fixture.Local.Calls[tag].Request.Messages;

        // 50 user turns and 49 answers; the first turn's instructions are not carried over.
        Assert.Equal(99, messages.Count);
        Assert.DoesNotContain(messages, m => m.Role == Capa.Protocol.ChatRole.System);
        Assert.Equal("turn 0", messages[0].GetText());
        Assert.Equal("local answer", messages[1].GetText());
        Assert.Equal("turn 49", messages[^1].GetText());
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"turn {i}"), messages.Where((_, i) => i % 2 == 0).Select(m => m.GetText()));
    }

    [Fact]
    public async Task Store_false_leaves_nothing_behind()
    {
        var created = await PostAsync("""{"model":"local-chat","input":"Hi","store":false}""");
        Assert.False(created.GetProperty("store").GetBoolean());
        var id = created.GetProperty("id").GetString();
        using var get = await Http.GetAsync($"/v1/responses/{id}");
        await ErrorAssert.IsOpenAIErrorAsync(get, HttpStatusCode.NotFound);
        using var next = await Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"Hi","previous_response_id":"{{id}}"}"""));
        await ErrorAssert.IsOpenAIErrorAsync(next, HttpStatusCode.NotFound, "previous_response_not_found", "previous_response_id");
        using var items = await Http.GetAsync($"/v1/responses/{id}/input_items");
        await ErrorAssert.IsOpenAIErrorAsync(items, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_removes_the_response_and_breaks_chains_through_it()
    {
        var client = fixture.Client();
        var first = (await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("one")]))).Value;
        var second = (await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("two")]) { PreviousResponseId = first.Id })).Value;
        var deletion = (await client.DeleteResponseAsync(first.Id)).Value;
        Assert.True(deletion.Deleted);

        var missing = await Assert.ThrowsAsync<ClientResultException>(() => client.GetResponseAsync(first.Id));
        Assert.Equal(404, missing.Status);
        using var again = await Http.DeleteAsync($"/v1/responses/{first.Id}");
        await ErrorAssert.IsOpenAIErrorAsync(again, HttpStatusCode.NotFound);

        // The chain through the deleted response can no longer be rebuilt: OpenAI's 404 naming it.
        using var broken = await Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"three","previous_response_id":"{{second.Id}}"}"""));
        var error = await ErrorAssert.IsOpenAIErrorAsync(broken, HttpStatusCode.NotFound, "previous_response_not_found", "previous_response_id");
        Assert.Contains(first.Id, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Input_items_page_with_limit_order_and_after()
    {
        var created = await PostAsync("""
            {"model":"local-chat","input":[
              {"role":"user","content":"a"},{"role":"assistant","content":"b"},{"type":"message","role":"user","content":[{"type":"input_text","text":"c"}]},
              {"role":"developer","content":"d"},{"role":"user","content":"e"}]}
            """);
        var id = created.GetProperty("id").GetString();

        var page = JsonElement.Parse(await GetTextAsync($"/v1/responses/{id}/input_items?limit=2"));
        Assert.Equal("list", page.GetProperty("object").GetString());
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.Equal(["e", "d"], page.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        var last = page.GetProperty("last_id").GetString();
        var next = JsonElement.Parse(await GetTextAsync($"/v1/responses/{id}/input_items?limit=2&after={last}"));
        Assert.Equal(["c", "b"], next.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.Equal("output_text", next.GetProperty("data")[1].GetProperty("content")[0].GetProperty("type").GetString());
        var ascending = JsonElement.Parse(await GetTextAsync($"/v1/responses/{id}/input_items?order=asc&limit=100"));
        Assert.False(ascending.GetProperty("has_more").GetBoolean());
        Assert.Equal(["a", "b", "c", "d", "e"], ascending.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
        Assert.All(ascending.GetProperty("data").EnumerateArray(), i => Assert.StartsWith("msg_", i.GetProperty("id").GetString(), StringComparison.Ordinal));

        // The SDK pages through all of them.
        var all = new List<ResponseItem>();
        await foreach (var item in fixture.Client().GetResponseInputItemsAsync(new ResponseItemCollectionOptions(id) { PageSizeLimit = 2 }))
        {
            all.Add(item);
        }

        Assert.Equal(5, all.Count);
        using var badLimit = await Http.GetAsync($"/v1/responses/{id}/input_items?limit=0");
        await ErrorAssert.IsOpenAIErrorAsync(badLimit, HttpStatusCode.BadRequest, param: "limit");
    }

    [Theory]
    [InlineData("""{"model":"local-chat","input":"Hi","previous_response_id":"resp_nope","conversation":"conv_nope"}""", 400, "mutually_exclusive_parameters", null)]
    [InlineData("""{"model":"local-chat","input":"Hi","tools":[{"type":"web_search"}]}""", 400, "unsupported_tool_type", "tools[0].type")]
    [InlineData("""{"model":"local-chat","input":"Hi","tools":[{"type":"function","name":"f"},{"type":"code_interpreter","container":{"type":"auto"}}]}""", 400, "unsupported_tool_type", "tools[1].type")]
    [InlineData("""{"model":"local-chat","input":[{"type":"banana"}]}""", 400, "invalid_value", "input[0].type")]
    [InlineData("""{"model":"local-chat","input":[{"role":"user","content":[{"type":"input_text"}]}]}""", 400, "missing_required_parameter", "input[0].content[0].text")]
    [InlineData("""{"model":"local-chat","input":[{"role":"robot","content":"x"}]}""", 400, "invalid_value", "input[0].role")]
    [InlineData("""{"model":"local-chat","input":[{"type":"function_call_output","call_id":"c","output":5}]}""", 400, "invalid_type", "input[0].output")]
    [InlineData("""{"model":"local-chat","input":42}""", 400, "invalid_type", "input")]
    [InlineData("""{"input":"Hi"}""", 400, "missing_required_parameter", "model")]
    [InlineData("""{"model":"local-chat","input":"Hi","temperature":3}""", 400, null, "temperature")]
    [InlineData("""{"model":"local-chat","input":"Hi","bogus":1}""", 400, "unknown_parameter", "bogus")]
    [InlineData("""{"model":"local-chat","input":"Hi","text":{"format":{"type":"yaml"}}}""", 400, "invalid_value", "text.format.type")]
    [InlineData("""{"model":"local-chat","input":"Hi","previous_response_id":"resp_0000"}""", 404, "previous_response_not_found", "previous_response_id")]
    [InlineData("""{"model":"local-chat","input":"Hi","conversation":"conv_0000"}""", 404, null, "conversation")]
    [InlineData("""{"model":"no-such-model","input":"Hi"}""", 404, "model_not_found", null)]
    [InlineData("""{"model":"local-chat","input":"Hi""", 400, null, null)]
    [InlineData("""[1,2]""", 400, "invalid_type", null)]
    public async Task Bad_input_gets_openai_errors_and_the_server_keeps_serving(string body, int status, string? code, string? param)
    {
        using var response = await Http.PostAsync("/v1/responses", Json(body));
        await ErrorAssert.IsOpenAIErrorAsync(response, (HttpStatusCode)status, code, param);
        var healthy = await PostAsync("""{"model":"local-chat","input":"still there?"}""");
        Assert.Equal("completed", healthy.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_oversized_body_is_413_and_the_wrong_content_type_415()
    {
        using var large = await Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"{{new string('x', 2 * 1024 * 1024)}}"}"""));
        await ErrorAssert.IsOpenAIErrorAsync(large, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        using var text = await Http.PostAsync("/v1/responses", new StringContent("""{"model":"local-chat","input":"x"}""", Encoding.UTF8, "text/plain"));
        await ErrorAssert.IsOpenAIErrorAsync(text, HttpStatusCode.UnsupportedMediaType);
        var healthy = await PostAsync("""{"model":"local-chat","input":"still there?"}""");
        Assert.Equal("completed", healthy.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_unsupported_tool_through_the_sdk_is_refused_by_name()
    {
        var client = fixture.Client();
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("Hi")])
        {
            Tools = { ResponseTool.CreateWebSearchTool() },
        }));
        Assert.Equal(400, error.Status);
        Assert.Contains("web_search", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conversation_gives_context_and_collects_each_turn()
    {
        var conversation = JsonElement.Parse(await (await Http.PostAsync("/v1/conversations", Json("""{"metadata":{"topic":"weather"},"items":[{"role":"system","content":"You are terse."}]}"""))).Content.ReadAsStringAsync());
        var id = conversation.GetProperty("id").GetString()!;
        Assert.StartsWith("conv_", id, StringComparison.Ordinal);
        Assert.Equal("conversation", conversation.GetProperty("object").GetString());
        Assert.Equal("weather", conversation.GetProperty("metadata").GetProperty("topic").GetString());

        var client = fixture.Client();
        var tag = "conv-" + Guid.NewGuid().ToString("N");
        await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("first")]) { ConversationOptions = new ResponseConversationOptions(id), EndUserId = tag });
        var second = (await client.CreateResponseAsync(new CreateResponseOptions("local-chat", [ResponseItem.CreateUserMessageItem("second")]) { ConversationOptions = new ResponseConversationOptions(id), EndUserId = tag })).Value;
        Assert.Equal(id, second.ConversationOptions.ConversationId);

        var messages = fixture.Local.Calls[tag].Request.Messages;
        Assert.Equal(["You are terse.", "first", "local answer", "second"], messages.Select(m => m.GetText()));

        var items = JsonElement.Parse(await GetTextAsync($"/v1/conversations/{id}/items?order=asc"));
        Assert.Equal(5, items.GetProperty("data").GetArrayLength());
        var answerId = items.GetProperty("data")[2].GetProperty("id").GetString();
        Assert.Equal("local answer", JsonElement.Parse(await GetTextAsync($"/v1/conversations/{id}/items/{answerId}")).GetProperty("content")[0].GetProperty("text").GetString());

        using var both = await Http.PostAsync("/v1/responses", Json($$"""{"model":"local-chat","input":"x","conversation":"{{id}}","previous_response_id":"{{second.Id}}"}"""));
        await ErrorAssert.IsOpenAIErrorAsync(both, HttpStatusCode.BadRequest, "mutually_exclusive_parameters");

        using var update = await Http.PostAsync($"/v1/conversations/{id}", Json("""{"metadata":{"topic":"rain"}}"""));
        Assert.Equal("rain", JsonElement.Parse(await update.Content.ReadAsStringAsync()).GetProperty("metadata").GetProperty("topic").GetString());
        using var deleteItem = await Http.DeleteAsync($"/v1/conversations/{id}/items/{answerId}");
        Assert.Equal(HttpStatusCode.OK, deleteItem.StatusCode);
        Assert.Equal(4, JsonElement.Parse(await GetTextAsync($"/v1/conversations/{id}/items")).GetProperty("data").GetArrayLength());
        using var delete = await Http.DeleteAsync($"/v1/conversations/{id}");
        Assert.True(JsonElement.Parse(await delete.Content.ReadAsStringAsync()).GetProperty("deleted").GetBoolean());
        using var gone = await Http.GetAsync($"/v1/conversations/{id}");
        await ErrorAssert.IsOpenAIErrorAsync(gone, HttpStatusCode.NotFound);
        using var tooMany = await Http.PostAsync("/v1/conversations", Json("{\"items\":[" + string.Join(',', Enumerable.Repeat("""{"role":"user","content":"x"}""", 21)) + "]}"));
        await ErrorAssert.IsOpenAIErrorAsync(tooMany, HttpStatusCode.BadRequest, "array_above_max_length", "items");
    }

    [Fact]
    public async Task State_survives_a_restart_of_the_server()
    {
        var created = await PostAsync("""{"model":"local-chat","input":"remember me"}""");
        var id = created.GetProperty("id").GetString();
        await using var second = await CapaTestServer.StartAsync(new Capa.Server.Hosting.CapaServerOptions { StateDirectory = fixture.StateDirectory });
        using var response = await second.Http.GetAsync($"/v1/responses/{id}");
        Assert.Equal(created.GetRawText(), await response.Content.ReadAsStringAsync());
    }
}
