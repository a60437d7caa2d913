using System.Net;
using System.Text;
using System.Text.Json;
using Capa.Server.Tests.Infrastructure;
using OpenAI.Assistants;

namespace Capa.Server.Tests.Assistants;

/// <summary>The Assistants API v2 through the official .NET SDK's <see cref="AssistantClient"/> against the real server.</summary>
public sealed class AssistantsEndpointTests(AssistantsServerFixture fixture) : IClassFixture<AssistantsServerFixture>
{
    private HttpClient Http => fixture.Server.Http;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<ThreadRun> PollAsync(AssistantClient client, ThreadRun run)
    {
        for (var i = 0; i < 600 && !run.Status.IsTerminal && run.Status != RunStatus.RequiresAction; i++)
        {
            await Task.Delay(50);
            run = (await client.GetRunAsync(run.ThreadId, run.Id)).Value;
        }

        return run;
    }

    private static async Task<List<T>> AllAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    [Fact]
    public async Task Assistants_are_created_read_modified_listed_in_pages_and_deleted()
    {
        var client = fixture.Client();
        var tag = Guid.NewGuid().ToString("N");
        var created = new List<Assistant>();
        for (var i = 0; i < 3; i++)
        {
            created.Add((await client.CreateAssistantAsync(ScriptedAssistantProvider.Model, new AssistantCreationOptions
            {
                Name = $"英雄联盟 {i}",
                Instructions = "你是英雄联盟的专家。",
                Metadata = { ["tag"] = tag },
                Temperature = 0.5f,
            })).Value);
        }

        Assert.All(created, a => Assert.StartsWith("asst_", a.Id, StringComparison.Ordinal));
        var read = (await client.GetAssistantAsync(created[1].Id)).Value;
        Assert.Equal("英雄联盟 1", read.Name);
        Assert.Equal("你是英雄联盟的专家。", read.Instructions);
        Assert.Equal(0.5f, read.Temperature);
        Assert.Equal(tag, read.Metadata["tag"]);

        var modified = (await client.ModifyAssistantAsync(created[1].Id, new AssistantModificationOptions { Name = "改名", DefaultTools = { ToolDefinition.CreateFunction("get_weather", "天气", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")) } })).Value;
        Assert.Equal("改名", modified.Name);
        Assert.Equal("你是英雄联盟的专家。", modified.Instructions);
        Assert.Equal("get_weather", Assert.IsType<FunctionToolDefinition>(Assert.Single(modified.Tools)).FunctionName);

        // Pages of two, oldest first: the SDK follows after/last_id/has_more.
        var first = JsonElement.Parse(await Http.GetStringAsync($"/v1/assistants?limit=2&order=asc&after={created[0].Id}"));
        Assert.Equal("list", first.GetProperty("object").GetString());
        Assert.Equal([created[1].Id, created[2].Id], first.GetProperty("data").EnumerateArray().Take(2).Select(a => a.GetProperty("id").GetString()));
        Assert.Equal(created[1].Id, first.GetProperty("first_id").GetString());
        var desc = JsonElement.Parse(await Http.GetStringAsync($"/v1/assistants?limit=1&before={created[1].Id}"));
        Assert.Equal(created[2].Id, desc.GetProperty("data")[0].GetProperty("id").GetString());
        var listed = await AllAsync(client.GetAssistantsAsync(new AssistantCollectionOptions { PageSizeLimit = 2, Order = AssistantCollectionOrder.Ascending }));
        Assert.Equal(created.Select(a => a.Id), listed.Where(a => a.Metadata.TryGetValue("tag", out var t) && t == tag).Select(a => a.Id));

        Assert.True((await client.DeleteAssistantAsync(created[0].Id)).Value.Deleted);
        using var gone = await Http.GetAsync($"/v1/assistants/{created[0].Id}");
        var error = await ErrorAssert.IsOpenAIErrorAsync(gone, HttpStatusCode.NotFound);
        Assert.Equal($"No assistant found with id '{created[0].Id}'.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Threads_and_messages_are_created_listed_modified_and_deleted()
    {
        var client = fixture.Client();
        var thread = (await client.CreateThreadAsync(new ThreadCreationOptions
        {
            InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("第一条")]) },
            Metadata = { ["k"] = "v" },
        })).Value;
        Assert.StartsWith("thread_", thread.Id, StringComparison.Ordinal);
        Assert.Equal("v", (await client.GetThreadAsync(thread.Id)).Value.Metadata["k"]);

        var second = (await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText("第二条 ✓")])).Value;
        Assert.Equal("第二条 ✓", Assert.Single(second.Content).Text);
        Assert.Equal(MessageStatus.Completed, second.Status);
        var third = (await client.CreateMessageAsync(thread.Id, MessageRole.Assistant, [MessageContent.FromText("第三条")])).Value;

        var ascending = await AllAsync(client.GetMessagesAsync(thread.Id, new MessageCollectionOptions { Order = MessageCollectionOrder.Ascending, PageSizeLimit = 1 }));
        Assert.Equal(["第一条", "第二条 ✓", "第三条"], ascending.Select(m => m.Content[0].Text));
        var descending = await AllAsync(client.GetMessagesAsync(thread.Id));
        Assert.Equal(third.Id, descending[0].Id);

        var modified = (await client.ModifyMessageAsync(thread.Id, second.Id, new MessageModificationOptions { Metadata = { ["seen"] = "yes" } })).Value;
        Assert.Equal("yes", modified.Metadata["seen"]);
        Assert.Equal("yes", (await client.GetMessageAsync(thread.Id, second.Id)).Value.Metadata["seen"]);

        Assert.True((await client.DeleteMessageAsync(thread.Id, second.Id)).Value.Deleted);
        Assert.Equal(2, (await AllAsync(client.GetMessagesAsync(thread.Id))).Count);

        Assert.True((await client.DeleteThreadAsync(thread.Id)).Value.Deleted);
        using var gone = await Http.GetAsync($"/v1/threads/{thread.Id}/messages");
        await ErrorAssert.IsOpenAIErrorAsync(gone, HttpStatusCode.NotFound);
        using var goneMessage = await Http.GetAsync($"/v1/threads/{thread.Id}/messages/{third.Id}");
        await ErrorAssert.IsOpenAIErrorAsync(goneMessage, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_tutorials_custom_gpt_answers_in_a_run_polled_to_completion_with_its_steps()
    {
        var client = fixture.Client();
        var assistant = (await client.CreateAssistantAsync(ScriptedAssistantProvider.Model, new AssistantCreationOptions
        {
            Name = "英雄联盟",
            Instructions = "你是一个英雄联盟的助手，用中文回答。",
        })).Value;
        var thread = (await client.CreateThreadAsync()).Value;
        var question = "2022年英雄联盟世界锦标赛的冠军是谁？ " + Guid.NewGuid().ToString("N");
        await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(question)]);

        var run = (await client.CreateRunAsync(thread.Id, assistant.Id)).Value;
        Assert.Equal(RunStatus.Queued, run.Status);
        run = await PollAsync(client, run);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(10, run.Usage.InputTokenCount);
        Assert.Equal(3, run.Usage.OutputTokenCount);
        Assert.NotNull(run.CompletedAt);

        // The model saw the assistant's instructions as the system message, then the thread.
        var call = fixture.Scripted.Calls[question];
        Assert.Equal("你是一个英雄联盟的助手，用中文回答。", call.Request.Messages[0].GetText());
        Assert.Equal(question, call.Request.Messages[^1].GetText());

        var messages = await AllAsync(client.GetMessagesAsync(thread.Id));
        var answer = messages[0];
        Assert.Equal(MessageRole.Assistant, answer.Role);
        Assert.Equal("echo: " + question, answer.Content[0].Text);
        Assert.Equal(run.Id, answer.RunId);
        Assert.Equal(assistant.Id, answer.AssistantId);

        var step = Assert.Single(await AllAsync(client.GetRunStepsAsync(thread.Id, run.Id)));
        Assert.Equal(RunStepKind.CreatedMessage, step.Kind);
        Assert.Equal(answer.Id, step.Details.CreatedMessageId);
        Assert.Equal(RunStepStatus.Completed, step.Status);
        Assert.Equal(step.Id, (await client.GetRunStepAsync(thread.Id, run.Id, step.Id)).Value.Id);
        Assert.Equal(run.Id, Assert.Single(await AllAsync(client.GetRunsAsync(thread.Id))).Id);
    }

    [Fact]
    public async Task A_streamed_run_calls_a_function_waits_for_its_output_and_answers_with_it()
    {
        var client = fixture.Client();
        var assistant = (await client.CreateAssistantAsync(ScriptedAssistantProvider.Model, new AssistantCreationOptions
        {
            Instructions = "Use the tools.",
            Tools = { ToolDefinition.CreateFunction("get_weather", "The weather of a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")) },
        })).Value;
        var thread = (await client.CreateThreadAsync()).Value;
        var question = "上海天气如何？ " + Guid.NewGuid().ToString("N");
        await client.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(question)]);

        var kinds = new List<StreamingUpdateReason>();
        RequiredActionUpdate? action = null;
        await foreach (var update in await client.CreateRunStreamingAsync(thread.Id, assistant.Id, new RunCreationOptions { AdditionalInstructions = "Be brief." }))
        {
            kinds.Add(update.UpdateKind);
            if (update is RequiredActionUpdate required)
            {
                action = required;
            }
        }

        Assert.Equal(StreamingUpdateReason.RunCreated, kinds[0]);
        Assert.Contains(StreamingUpdateReason.RunStepCreated, kinds);
        Assert.NotNull(action);
        Assert.Equal("get_weather", action.FunctionName);
        Assert.Equal("""{"city":"上海"}""", action.FunctionArguments);
        var waiting = (await client.GetRunAsync(thread.Id, action.Value.Id)).Value;
        Assert.Equal(RunStatus.RequiresAction, waiting.Status);

        var text = new StringBuilder();
        ThreadRun? final = null;
        await foreach (var update in await client.SubmitToolOutputsToRunStreamingAsync(thread.Id, waiting.Id, [new ToolOutput(action.ToolCallId, "晴，25°C")]))
        {
            if (update is MessageContentUpdate content)
            {
                text.Append(content.Text);
            }
            else if (update is RunUpdate { UpdateKind: StreamingUpdateReason.RunCompleted } completed)
            {
                final = completed.Value;
            }
        }

        Assert.Equal("tool said: 晴，25°C", text.ToString());
        Assert.Equal("Use the tools.\n\nBe brief.", fixture.Scripted.Calls[question].Request.Messages[0].GetText());
        Assert.NotNull(final);
        Assert.Equal(20, final.Usage.InputTokenCount);

        var steps = await AllAsync(client.GetRunStepsAsync(thread.Id, waiting.Id, new RunStepCollectionOptions { Order = RunStepCollectionOrder.Ascending }));
        Assert.Equal([RunStepKind.ToolCall, RunStepKind.CreatedMessage], steps.Select(s => s.Kind));
        var toolCall = Assert.Single(steps[0].Details.ToolCalls);
        Assert.Equal("晴，25°C", toolCall.FunctionOutput);
        Assert.Equal(action.ToolCallId, toolCall.Id);
    }

    [Fact]
    public async Task The_raw_stream_has_openais_events_in_order_and_ends_with_done()
    {
        var assistant = JsonElement.Parse(await (await Http.PostAsync("/v1/assistants", Json("""{"model":"scripted","instructions":"hi"}"""))).Content.ReadAsStringAsync());
        using var response = await Http.PostAsync("/v1/threads/runs", Json($$"""{"assistant_id":"{{assistant.GetProperty("id").GetString()}}","thread":{"messages":[{"role":"user","content":"a b"}]},"stream":true}"""));
        Assert.Equal("text/event-stream; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var blocks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var names = blocks.Select(b => b.Split('\n')[0]["event: ".Length..]).ToList();
        Assert.Equal(
            [
                "thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created", "thread.run.step.in_progress",
                "thread.message.created", "thread.message.in_progress", "thread.message.delta", "thread.message.delta", "thread.message.delta",
                "thread.message.completed", "thread.run.step.completed", "thread.run.completed", "done",
            ],
            names);
        Assert.Equal("data: [DONE]", blocks[^1].Split('\n')[1]);
        var delta = JsonElement.Parse(blocks[9].Split('\n')[1]["data: ".Length..]);
        Assert.Equal("thread.message.delta", delta.GetProperty("object").GetString());
        Assert.Equal(" a", delta.GetProperty("delta").GetProperty("content")[0].GetProperty("text").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Run_options_override_instructions_truncate_the_thread_and_set_the_format()
    {
        var client = fixture.Client();
        var assistant = (await client.CreateAssistantAsync(ScriptedAssistantProvider.Model, new AssistantCreationOptions { Instructions = "assistant's own" })).Value;
        var tag = Guid.NewGuid().ToString("N");
        var run = (await client.CreateThreadAndRunAsync(
            assistant.Id,
            new ThreadCreationOptions
            {
                InitialMessages =
                {
                    new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("old question")]),
                    new ThreadInitializationMessage(MessageRole.Assistant, [MessageContent.FromText("old answer")]),
                    new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText(tag)]),
                },
            },
            new RunCreationOptions
            {
                InstructionsOverride = "override in json",
                TruncationStrategy = RunTruncationStrategy.CreateLastMessagesStrategy(1),
                ResponseFormat = AssistantResponseFormat.CreateJsonObjectFormat(),
                MaxOutputTokenCount = 300,
            })).Value;
        run = await PollAsync(client, run);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("override in json", run.Instructions);
        var call = fixture.Scripted.Calls[tag];
        Assert.Equal(["override in json", tag], call.Request.Messages.Select(m => m.GetText()));
        Assert.NotNull(call.Request.ResponseFormat);
        Assert.Equal(300, call.Request.MaxCompletionTokens);
    }

    [Fact]
    public async Task Cancelling_a_running_run_ends_it_cancelled_with_its_message_incomplete()
    {
        var client = fixture.Client();
        var assistant = (await client.CreateAssistantAsync("local-endless")).Value;
        var run = (await client.CreateThreadAndRunAsync(assistant.Id, new ThreadCreationOptions { InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("write a lot")]) } })).Value;
        // Cancelled once its message is being written, so the cancel always meets a message in progress.
        for (var i = 0; i < 600 && (await AllAsync(client.GetRunStepsAsync(run.ThreadId, run.Id))).Count == 0; i++)
        {
            await Task.Delay(20);
        }

        var cancelling = (await client.CancelRunAsync(run.ThreadId, run.Id)).Value;
        Assert.Equal(RunStatus.Cancelling, cancelling.Status);
        run = await PollAsync(client, cancelling);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.NotNull(run.CancelledAt);
        var message = (await AllAsync(client.GetMessagesAsync(run.ThreadId)))[0];
        Assert.Equal(MessageRole.Assistant, message.Role);
        Assert.Equal(MessageStatus.Incomplete, message.Status);

        using var again = await Http.PostAsync($"/v1/threads/{run.ThreadId}/runs/{run.Id}/cancel", null);
        var error = await ErrorAssert.IsOpenAIErrorAsync(again, HttpStatusCode.BadRequest);
        Assert.Equal("Cannot cancel run with status 'cancelled'.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_provider_failure_mid_run_fails_the_run_with_last_error()
    {
        var client = fixture.Client();
        var assistant = (await client.CreateAssistantAsync("local-fail-mid")).Value;
        var run = (await client.CreateThreadAndRunAsync(assistant.Id, new ThreadCreationOptions { InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("hi")]) } })).Value;
        run = await PollAsync(client, run);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(RunErrorCode.ServerError, run.LastError.Code);
        Assert.NotNull(run.FailedAt);
    }

    [Fact]
    public async Task File_search_without_vector_stores_runs_and_with_a_missing_one_fails_naming_it()
    {
        var client = fixture.Client();
        var plain = (await client.CreateAssistantAsync(ScriptedAssistantProvider.Model, new AssistantCreationOptions { Tools = { new FileSearchToolDefinition() } })).Value;
        Assert.IsType<FileSearchToolDefinition>(Assert.Single(plain.Tools));
        var run = (await client.CreateThreadAndRunAsync(plain.Id, new ThreadCreationOptions { InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("hi")]) } })).Value;
        Assert.Equal(RunStatus.Completed, (await PollAsync(client, run)).Status);

        var withStore = JsonElement.Parse(await (await Http.PostAsync("/v1/assistants", Json("""{"model":"scripted","tools":[{"type":"file_search"}],"tool_resources":{"file_search":{"vector_store_ids":["vs_1"]}}}"""))).Content.ReadAsStringAsync());
        Assert.Equal("vs_1", withStore.GetProperty("tool_resources").GetProperty("file_search").GetProperty("vector_store_ids")[0].GetString());
        var missing = (await client.CreateThreadAndRunAsync(withStore.GetProperty("id").GetString(), new ThreadCreationOptions { InitialMessages = { new ThreadInitializationMessage(MessageRole.User, [MessageContent.FromText("hi")]) } })).Value;
        missing = await PollAsync(client, missing);
        Assert.Equal(RunStatus.Failed, missing.Status);
        Assert.Contains("vs_1", missing.LastError.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/assistants", """{"model":"scripted","tools":[{"type":"code_interpreter"}]}""", HttpStatusCode.BadRequest, "tools[0].type")]
    [InlineData("/v1/assistants", """{"model":"scripted","tool_resources":{"code_interpreter":{"file_ids":[]}}}""", HttpStatusCode.BadRequest, "tool_resources.code_interpreter")]
    [InlineData("/v1/assistants", """{"name":"x"}""", HttpStatusCode.BadRequest, "model")]
    [InlineData("/v1/assistants", """{"model":"no-such-model"}""", HttpStatusCode.NotFound, null)]
    [InlineData("/v1/assistants", """{"model":"scripted","temperature":3}""", HttpStatusCode.BadRequest, "temperature")]
    [InlineData("/v1/assistants", """{"model":"scripted","tools":[{"type":"function","function":{"name":"bad name"}}]}""", HttpStatusCode.BadRequest, "tools[0].function.name")]
    [InlineData("/v1/assistants", """{"model":"scripted","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":"object"}}}""", HttpStatusCode.BadRequest, "response_format.json_schema.schema")]
    [InlineData("/v1/assistants", """{"model":"scripted","surprise":1}""", HttpStatusCode.BadRequest, "surprise")]
    [InlineData("/v1/threads", """{"messages":[{"role":"system","content":"x"}]}""", HttpStatusCode.BadRequest, "messages[0].role")]
    [InlineData("/v1/threads", """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}""", HttpStatusCode.BadRequest, "messages[0].content[0].type")]
    [InlineData("/v1/threads", """{"messages":[{"role":"user","content":"x","attachments":[{"file_id":"file-1","tools":[{"type":"file_search"}]}]}]}""", HttpStatusCode.NotFound, "messages[0].attachments[0].file_id")]
    [InlineData("/v1/threads/runs", """{"assistant_id":"asst_missing"}""", HttpStatusCode.NotFound, null)]
    [InlineData("/v1/threads/thread_missing/runs", """{"assistant_id":"asst_missing"}""", HttpStatusCode.NotFound, null)]
    [InlineData("/v1/threads/thread_missing/messages", """{"role":"user","content":"x"}""", HttpStatusCode.NotFound, null)]
    public async Task Bad_input_gets_openais_error(string path, string body, HttpStatusCode status, string? param)
    {
        using var response = await Http.PostAsync(path, Json(body));
        await ErrorAssert.IsOpenAIErrorAsync(response, status, param: param);
    }

    [Fact]
    public async Task Runs_refuse_bad_options_tool_outputs_out_of_turn_and_messages_while_active()
    {
        var assistant = JsonElement.Parse(await (await Http.PostAsync("/v1/assistants", Json("""{"model":"local-endless"}"""))).Content.ReadAsStringAsync()).GetProperty("id").GetString();
        using (var small = await Http.PostAsync("/v1/threads/runs", Json($$"""{"assistant_id":"{{assistant}}","max_completion_tokens":100}""")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(small, HttpStatusCode.BadRequest, param: "max_completion_tokens");
        }

        using (var choice = await Http.PostAsync("/v1/threads/runs", Json("{\"assistant_id\":\"" + assistant + "\",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}}}")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(choice, HttpStatusCode.BadRequest, param: "tool_choice");
        }

        var run = JsonElement.Parse(await (await Http.PostAsync("/v1/threads/runs", Json($$$"""{"assistant_id":"{{{assistant}}}","thread":{"messages":[{"role":"user","content":"go"}]}}"""))).Content.ReadAsStringAsync());
        var (threadId, runId) = (run.GetProperty("thread_id").GetString(), run.GetProperty("id").GetString());
        using (var message = await Http.PostAsync($"/v1/threads/{threadId}/messages", Json("""{"role":"user","content":"more"}""")))
        {
            var error = await ErrorAssert.IsOpenAIErrorAsync(message, HttpStatusCode.BadRequest);
            Assert.Contains(runId!, error.GetProperty("message").GetString()!, StringComparison.Ordinal);
        }

        using (var second = await Http.PostAsync($"/v1/threads/{threadId}/runs", Json($$"""{"assistant_id":"{{assistant}}"}""")))
        {
            await ErrorAssert.IsOpenAIErrorAsync(second, HttpStatusCode.BadRequest);
        }

        using (var outputs = await Http.PostAsync($"/v1/threads/{threadId}/runs/{runId}/submit_tool_outputs", Json("""{"tool_outputs":[{"tool_call_id":"call_x","output":"y"}]}""")))
        {
            var error = await ErrorAssert.IsOpenAIErrorAsync(outputs, HttpStatusCode.BadRequest);
            Assert.StartsWith("Runs in status", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using (var badLimit = await Http.GetAsync($"/v1/threads/{threadId}/runs?limit=0"))
        {
            await ErrorAssert.IsOpenAIErrorAsync(badLimit, HttpStatusCode.BadRequest, param: "limit");
        }

        using var cancel = await Http.PostAsync($"/v1/threads/{threadId}/runs/{runId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
    }
}
