using System.Text.Json;
using static Capa.Cli.Tests.Commands.ServeCrashTests;

namespace Capa.Cli.Tests.Commands;

/// <summary>
/// <c>capa serve</c> killed with SIGKILL while an assistant run executes on the real engine (the embedded tiny model):
/// after a restart on the same state the interrupted run is failed (its step failed, its message incomplete), nothing
/// is left in progress, what was acknowledged is there, and a run that waited for tool outputs still takes them.
/// </summary>
public sealed class ServeRunCrashTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("capa-run-crash-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<JsonElement> WaitAsync(ServeProcess server, string threadId, string runId, Func<string, bool> done)
    {
        for (var i = 0; i < 1200; i++)
        {
            var run = JsonElement.Parse(await server.GetAsync($"/v1/threads/{threadId}/runs/{runId}"));
            if (done(run.GetProperty("status").GetString()!))
            {
                return run;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{runId} did not reach the status wanted.");
    }

    private static async Task<string> Status(ServeProcess server, string threadId, string runId, Func<string, bool> done) =>
        (await WaitAsync(server, threadId, runId, done)).GetProperty("status").GetString()!;

    [Fact]
    public async Task A_kill_during_a_run_fails_it_after_restart_and_a_run_waiting_for_tool_outputs_survives()
    {
        string assistantJson, toolThread, toolRun, callId;
        string? threadId = null, longRun = null;
        using (var first = await ServeProcess.StartAsync(_root))
        {
            assistantJson = await first.PostAsync("/v1/assistants", """
                {"model":"capa-tiny","name":"英雄联盟","instructions":"你是英雄联盟的助手。",
                 "tools":[{"type":"function","function":{"name":"get_rank","parameters":{"type":"object","properties":{"team":{"type":"string","enum":["DRX","T1"]}},"required":["team"],"additionalProperties":false}}}]}
                """);
            var assistant = JsonElement.Parse(assistantJson).GetProperty("id").GetString();

            // A run that stops for tool outputs: the call is forced, the engine's constrained decoding writes its arguments.
            // The argument is an enum so that the random-weight model cannot wander in an open string past the token budget.
            var waiting = JsonElement.Parse(await first.PostAsync("/v1/threads/runs", $$$"""
                {"assistant_id":"{{{assistant}}}","tool_choice":{"type":"function","function":{"name":"get_rank"}},
                 "thread":{"messages":[{"role":"user","content":"DRX 排第几？"}]},"max_completion_tokens":256}
                """));
            (toolThread, toolRun) = (waiting.GetProperty("thread_id").GetString()!, waiting.GetProperty("id").GetString()!);
            var action = await WaitAsync(first, toolThread, toolRun, s => s is not ("queued" or "in_progress"));
            Assert.Equal("requires_action", action.GetProperty("status").GetString());
            var call = action.GetProperty("required_action").GetProperty("submit_tool_outputs").GetProperty("tool_calls")[0];
            Assert.Equal("get_rank", call.GetProperty("function").GetProperty("name").GetString());
            callId = call.GetProperty("id").GetString()!;

            // A run that writes until killed: no tools, a large token budget. The random-weight model may still choose
            // the end of text early, so a run that is no longer in progress just before the kill is replaced by another.
            for (var attempt = 0; attempt < 8 && threadId is null; attempt++)
            {
                var running = JsonElement.Parse(await first.PostAsync("/v1/threads/runs", $$"""
                    {"assistant_id":"{{assistant}}","tools":[],"thread":{"messages":[{"role":"user","content":"写一篇长文"}]},"max_completion_tokens":2000}
                    """));
                var (thread, run) = (running.GetProperty("thread_id").GetString()!, running.GetProperty("id").GetString()!);
                if (await Status(first, thread, run, s => s != "queued") != "in_progress")
                {
                    continue;
                }

                for (var i = 0; i < 600 && JsonElement.Parse(await first.GetAsync($"/v1/threads/{thread}/runs/{run}/steps")).GetProperty("data").GetArrayLength() == 0; i++)
                {
                    await Task.Delay(20);
                }

                if (await Status(first, thread, run, _ => true) == "in_progress")
                {
                    (threadId, longRun) = (thread, run);
                }
            }

            Assert.True(threadId is not null, "every run ended before it could be interrupted");
            first.Kill();
        }

        using var second = await ServeProcess.StartAsync(_root);
        var assistantId = JsonElement.Parse(assistantJson).GetProperty("id").GetString();
        Assert.Equal(assistantJson, await second.GetAsync($"/v1/assistants/{assistantId}"));

        var failed = JsonElement.Parse(await second.GetAsync($"/v1/threads/{threadId}/runs/{longRun}"));
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.True(failed.GetProperty("last_error").GetProperty("code").GetString() == "server_error", failed.GetRawText());
        var steps = JsonElement.Parse(await second.GetAsync($"/v1/threads/{threadId}/runs/{longRun}/steps")).GetProperty("data");
        Assert.All(steps.EnumerateArray(), s => Assert.Equal("failed", s.GetProperty("status").GetString()));
        var messages = JsonElement.Parse(await second.GetAsync($"/v1/threads/{threadId}/messages")).GetProperty("data");
        Assert.Equal("incomplete", messages[0].GetProperty("status").GetString());
        Assert.Equal("run_failed", messages[0].GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("completed", messages[1].GetProperty("status").GetString());

        // The waiting run is state, not a task: it takes its outputs from the new server and finishes.
        await second.PostAsync($"/v1/threads/{toolThread}/runs/{toolRun}/submit_tool_outputs", $$"""{"tool_outputs":[{"tool_call_id":"{{callId}}","output":"第一"}]}""");
        var finished = await WaitAsync(second, toolThread, toolRun, s => s is not ("queued" or "in_progress"));
        Assert.Contains(finished.GetProperty("status").GetString(), new[] { "completed", "incomplete", "requires_action" });
        var toolSteps = JsonElement.Parse(await second.GetAsync($"/v1/threads/{toolThread}/runs/{toolRun}/steps?order=asc")).GetProperty("data");
        Assert.Equal("第一", toolSteps[0].GetProperty("step_details").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("output").GetString());
        Assert.Equal("completed", toolSteps[0].GetProperty("status").GetString());
    }
}
