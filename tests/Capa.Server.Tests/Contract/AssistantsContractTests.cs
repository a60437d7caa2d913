using System.Net;
using System.Text.Json;
using Capa.Server.Tests.Assistants;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Contract;

/// <summary>Assistants and threads, checked against OpenAI's spec.</summary>
public sealed class AssistantsContractTests(AssistantsServerFixture fixture) : IClassFixture<AssistantsServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [SkippableFact]
    public async Task Assistants_and_threads_match_AssistantObject_and_ThreadObject()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        using var assistant = await fixture.Server.Http.PostAsync("/v1/assistants", SseTestReader.Json("""{"model":"local-chat","name":"contract","instructions":"Be brief."}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, assistant.StatusCode);
        OpenApiContract.AssertValid("AssistantObject", await assistant.Content.ReadAsStringAsync(Ct));

        using var thread = await fixture.Server.Http.PostAsync("/v1/threads", SseTestReader.Json("{}"), Ct);
        Assert.Equal(HttpStatusCode.OK, thread.StatusCode);
        OpenApiContract.AssertValid("ThreadObject", await thread.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>The object an Assistants stream event carries, by the event's name (the spec's RunStreamEvent and siblings).</summary>
    private static string SchemaOf(string eventName) => eventName switch
    {
        "thread.created" => "ThreadObject",
        "thread.run.step.delta" => "RunStepDeltaObject",
        "thread.message.delta" => "MessageDeltaObject",
        "error" => "Error",
        _ when eventName.StartsWith("thread.run.step.", StringComparison.Ordinal) => "RunStepObject",
        _ when eventName.StartsWith("thread.run.", StringComparison.Ordinal) => "RunObject",
        _ when eventName.StartsWith("thread.message.", StringComparison.Ordinal) => "MessageObject",
        _ => throw new Xunit.Sdk.XunitException($"OpenAI's Assistants stream has no event {eventName}."),
    };

    private async Task<string> GetAsync(string path)
    {
        using var response = await fixture.Server.Http.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return body;
    }

    [SkippableFact]
    public async Task Runs_steps_messages_and_their_lists_match_the_spec()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        using var created = await fixture.Server.Http.PostAsync("/v1/assistants", SseTestReader.Json("""{"model":"scripted","instructions":"hi"}"""), Ct);
        var assistant = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString();
        using var started = await fixture.Server.Http.PostAsync("/v1/threads/runs", SseTestReader.Json($$$"""{"assistant_id":"{{{assistant}}}","thread":{"messages":[{"role":"user","content":"a b"}]}}"""), Ct);
        var runJson = await started.Content.ReadAsStringAsync(Ct);
        Assert.True(started.StatusCode == HttpStatusCode.OK, runJson);
        OpenApiContract.AssertValid("RunObject", runJson);
        var run = JsonDocument.Parse(runJson).RootElement;
        var (threadId, runId) = (run.GetProperty("thread_id").GetString(), run.GetProperty("id").GetString());

        string finished = runJson;
        for (var i = 0; i < 600 && JsonDocument.Parse(finished).RootElement.GetProperty("status").GetString() is "queued" or "in_progress"; i++)
        {
            await Task.Delay(50);
            finished = await GetAsync($"/v1/threads/{threadId}/runs/{runId}");
        }

        Assert.Equal("completed", JsonDocument.Parse(finished).RootElement.GetProperty("status").GetString());
        OpenApiContract.AssertValid("RunObject", finished);
        OpenApiContract.AssertValid("ListRunsResponse", await GetAsync($"/v1/threads/{threadId}/runs"));
        var steps = await GetAsync($"/v1/threads/{threadId}/runs/{runId}/steps");
        OpenApiContract.AssertValid("ListRunStepsResponse", steps);
        var stepId = JsonDocument.Parse(steps).RootElement.GetProperty("data")[0].GetProperty("id").GetString();
        OpenApiContract.AssertValid("RunStepObject", await GetAsync($"/v1/threads/{threadId}/runs/{runId}/steps/{stepId}"));
        var messages = await GetAsync($"/v1/threads/{threadId}/messages");
        OpenApiContract.AssertValid("ListMessagesResponse", messages);
        var messageId = JsonDocument.Parse(messages).RootElement.GetProperty("data")[0].GetProperty("id").GetString();
        OpenApiContract.AssertValid("MessageObject", await GetAsync($"/v1/threads/{threadId}/messages/{messageId}"));
        OpenApiContract.AssertValid("ListAssistantsResponse", await GetAsync("/v1/assistants"));
    }

    [SkippableFact]
    public async Task Each_event_of_a_streamed_run_carries_the_object_the_spec_names()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        using var created = await fixture.Server.Http.PostAsync("/v1/assistants", SseTestReader.Json("""{"model":"scripted","instructions":"hi"}"""), Ct);
        var assistant = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString();
        using var response = await fixture.Server.Http.PostAsync("/v1/threads/runs", SseTestReader.Json($$"""{"assistant_id":"{{assistant}}","thread":{"messages":[{"role":"user","content":"a b"}]},"stream":true}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var blocks = (await response.Content.ReadAsStringAsync(Ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(blocks.Length > 5);
        foreach (var block in blocks)
        {
            var lines = block.Split('\n');
            var name = lines[0]["event: ".Length..];
            var data = lines[1]["data: ".Length..];
            if (name == "done")
            {
                Assert.Equal("[DONE]", data);
                continue;
            }

            OpenApiContract.AssertValid(SchemaOf(name), data);
        }
    }
}
