using System.Buffers;
using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Server.Configuration;
using Capa.Server.Hosting;
using Capa.Server.Responses;
using Capa.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using static Capa.Server.Assistants.AssistantsHttp;

namespace Capa.Server.Assistants;

/// <summary>
/// Runs and run steps of the Assistants API (v2): <c>/v1/threads/{id}/runs</c>, <c>/v1/threads/runs</c>,
/// <c>submit_tool_outputs</c>, <c>cancel</c>, <c>steps</c>. A run is stored queued and executed by
/// <see cref="RunExecutor"/>; a streaming request follows the run's stored events until the run is final or waits for
/// tool outputs, then sends <c>done</c>.
/// </summary>
internal sealed class RunsEndpoint(ServerSettings settings, ResponseStoreAccessor stores, RunPlanner planner, RunExecutor executor, MessageAttachments attachments, TimeProvider time, ILogger<RunsEndpoint> logger)
{
    private readonly ChatRequestLimits _limits = ChatRequestLimits.Default with { MaxBodyBytes = (int)Math.Min(settings.MaxBodyBytes, int.MaxValue), MaxDepth = settings.MaxJsonDepth };

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    private async Task<IAssistantStore> StoreAsync(HttpContext context) => (await stores.GetAsync(context.RequestAborted).ConfigureAwait(false)).Assistants;

    public Task CreateAsync(HttpContext context, string threadId) => CreateCoreAsync(context, threadId);

    public Task CreateThreadAndRunAsync(HttpContext context) => CreateCoreAsync(context, null);

    private async Task CreateCoreAsync(HttpContext context, string? threadId)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadRun(body, _limits, withThread: threadId is null, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var aborted = context.RequestAborted;
        var store = await StoreAsync(context).ConfigureAwait(false);
        var now = Now;
        var objects = new List<StoredAssistantObject>();
        ThreadObject? newThread = null;
        ThreadObject? oldThread = null;
        StoredAssistantObject? oldStored = null;
        JsonElement threadResources;
        if (threadId is null)
        {
            var (thread, messages) = NewThread(request.Thread ?? new ThreadRequest { Present = new HashSet<string>() }, now);
            if (request.ToolResources is { } resources)
            {
                thread = thread with { ToolResources = resources };
            }

            newThread = thread;
            threadId = thread.Id;
            threadResources = thread.ToolResources;
            objects.Add(Stored(thread));
            objects.AddRange(messages.Select(Stored));
        }
        else
        {
            if (await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, aborted).ConfigureAwait(false) is not { } storedThread)
            {
                await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
                return;
            }

            oldStored = storedThread;
            oldThread = Parse(storedThread, AssistantsJsonContext.Default.ThreadObject);
            threadResources = oldThread.ToolResources;
            if (await AssistantsEndpoint.ActiveRunAsync(store, threadId, aborted).ConfigureAwait(false) is { } active)
            {
                await RejectAsync(context, logger, ApiError.InvalidRequest($"Thread {threadId} already has an active run {active}.", null)).ConfigureAwait(false);
                return;
            }
        }

        var storedAssistant = await store.GetObjectAsync(AssistantObjectKinds.Assistant, request.AssistantId, null, aborted).ConfigureAwait(false);
        if (storedAssistant is null)
        {
            await RejectAsync(context, logger, NotFound("assistant", request.AssistantId)).ConfigureAwait(false);
            return;
        }

        var attaching = (request.Thread?.Messages ?? []).Select((m, i) => new AttachingMessage(m, $"thread.messages[{i}]."))
            .Concat(request.AdditionalMessages.Select((m, i) => new AttachingMessage(m, $"additional_messages[{i}].")))
            .ToList();
        if (await attachments.CheckAsync(attaching, aborted).ConfigureAwait(false) is { } missing)
        {
            await RejectAsync(context, logger, missing).ConfigureAwait(false);
            return;
        }

        var assistant = Parse(storedAssistant, AssistantsJsonContext.Default.AssistantObject);
        var instructions = request.Instructions ?? assistant.Instructions ?? string.Empty;
        if (request.AdditionalInstructions is { } additional)
        {
            instructions = instructions.Length == 0 ? additional : instructions + "\n\n" + additional;
        }

        var run = new RunObject
        {
            Id = StoreIds.New("run_"),
            CreatedAt = now,
            AssistantId = assistant.Id,
            ThreadId = threadId,
            Status = RunStatuses.Queued,
            Model = request.Model ?? assistant.Model,
            Instructions = instructions,
            Tools = request.Tools ?? assistant.Tools,
            Metadata = request.Metadata,
            Temperature = request.Temperature ?? assistant.Temperature ?? 1,
            TopP = request.TopP ?? assistant.TopP ?? 1,
            MaxPromptTokens = request.MaxPromptTokens,
            MaxCompletionTokens = request.MaxCompletionTokens,
            TruncationStrategy = request.TruncationStrategy,
            ToolChoice = request.ToolChoice,
            ParallelToolCalls = request.ParallelToolCalls,
            ResponseFormat = request.ResponseFormat ?? assistant.ResponseFormat,
        };
        if (!executor.CanSearchFiles && run.Tools.Any(t => t.GetProperty("type"u8).ValueEquals("file_search"u8))
            && (HasVectorStores(assistant.ToolResources) || HasVectorStores(threadResources)))
        {
            // Without the vector store service (no state store) the files cannot be searched: refused rather than answered without them.
            await RejectAsync(context, logger, ApiError.InvalidRequest(
                "The 'file_search' tool needs vector stores, which this server keeps only with a state store: remove 'file_search' from the run's tools or the vector stores from 'tool_resources'.",
                "tools", "unsupported_value")).ConfigureAwait(false);
            return;
        }

        if (await planner.ValidateAsync(run.Model, run.Tools, run.ResponseFormat, run.ToolChoice, aborted).ConfigureAwait(false) is { } invalid)
        {
            await RejectAsync(context, logger, invalid).ConfigureAwait(false);
            return;
        }

        // The attached files go into the thread's vector store only once the run is known to start.
        // A stored thread gets its vector store by a compare-and-set there, against other requests attaching at once.
        var (attachedResources, attachError) = oldStored is not null
            ? await attachments.AddToStoredThreadAsync(store, oldStored, attaching.Select(a => a.Message), aborted).ConfigureAwait(false)
            : await attachments.AddToThreadAsync(threadResources, attaching.Select(a => a.Message), aborted).ConfigureAwait(false);
        if (attachError is not null)
        {
            await RejectAsync(context, logger, attachError).ConfigureAwait(false);
            return;
        }

        if (newThread is not null && attachedResources.GetRawText() != threadResources.GetRawText())
        {
            newThread = newThread with { ToolResources = attachedResources };
            objects[0] = Stored(newThread);
        }

        objects.AddRange(request.AdditionalMessages.Select(m => Stored(NewMessage(m, threadId, now))));
        var execution = new RunExecution(run, 0, () => now);
        if (newThread is not null)
        {
            execution.Emit("thread.created", Json(newThread, AssistantsJsonContext.Default.ThreadObject));
        }

        execution.SetRun(run, "thread.run.created");
        execution.SetRun(run, "thread.run.queued");
        var (_, events) = execution.Drain();
        objects.Add(Stored(run, executor.Owner, executor.LeaseUntil()));
        await store.WriteAsync(new AssistantWrite { Objects = objects, Events = events, EventsRunId = run.Id }, aborted).ConfigureAwait(false);
        executor.Start(store, run.Id, RequestIds.Get(context));
        if (request.Stream)
        {
            await StreamAsync(context, store, run.Id, -1).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, run, AssistantsJsonContext.Default.RunObject).ConfigureAwait(false);
    }

    public async Task GetAsync(HttpContext context, string threadId, string runId)
    {
        var store = await StoreAsync(context).ConfigureAwait(false);
        if (await FindRunAsync(context, store, threadId, runId).ConfigureAwait(false) is { } run)
        {
            await WriteStoredAsync(context, run).ConfigureAwait(false);
        }
    }

    /// <summary>The run under the thread (expired first when its wait for tool outputs is over), or null after writing the 404.</summary>
    private async Task<StoredAssistantObject?> FindRunAsync(HttpContext context, IAssistantStore store, string threadId, string runId)
    {
        var aborted = context.RequestAborted;
        if (await store.GetObjectAsync(AssistantObjectKinds.Thread, threadId, null, aborted).ConfigureAwait(false) is null)
        {
            await RejectAsync(context, logger, NotFound("thread", threadId)).ConfigureAwait(false);
            return null;
        }

        var stored = await store.GetObjectAsync(AssistantObjectKinds.Run, runId, threadId, aborted).ConfigureAwait(false);
        if (stored is null)
        {
            await RejectAsync(context, logger, NotFound("run", runId)).ConfigureAwait(false);
            return null;
        }

        if (stored.Status == RunStatuses.RequiresAction && Parse(stored, AssistantsJsonContext.Default.RunObject).ExpiresAt is { } expires && Now > expires)
        {
            stored = await RunExecutor.FinishAsync(store, runId, RunStatuses.Expired, null, Now, aborted).ConfigureAwait(false) ?? stored;
        }

        return stored;
    }

    public async Task CancelAsync(HttpContext context, string threadId, string runId)
    {
        var store = await StoreAsync(context).ConfigureAwait(false);
        var aborted = context.RequestAborted;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            if (await FindRunAsync(context, store, threadId, runId).ConfigureAwait(false) is not { } stored)
            {
                return;
            }

            if (stored.Status is not (RunStatuses.Queued or RunStatuses.InProgress or RunStatuses.RequiresAction))
            {
                await RejectAsync(context, logger, ApiError.InvalidRequest($"Cannot cancel run with status '{stored.Status}'.", null)).ConfigureAwait(false);
                return;
            }

            if (stored.Status == RunStatuses.RequiresAction)
            {
                // Nobody executes a run that waits for tool outputs: it ends here.
                var cancelled = await RunExecutor.FinishAsync(store, runId, RunStatuses.Cancelled, null, Now, aborted).ConfigureAwait(false);
                await WriteStoredAsync(context, cancelled ?? stored).ConfigureAwait(false);
                return;
            }

            var run = Parse(stored, AssistantsJsonContext.Default.RunObject) with { Status = RunStatuses.Cancelling };
            var execution = new RunExecution(run, await store.GetLastRunEventSequenceAsync(runId, aborted).ConfigureAwait(false) + 1, () => Now);
            execution.SetRun(run, "thread.run.cancelling");
            var (_, events) = execution.Drain();
            var cancelling = Stored(run, stored.Owner, stored.LeaseExpiresAt);
            if (await store.WriteAsync(new AssistantWrite { Guard = cancelling, GuardStatuses = [stored.Status!], Events = events, EventsRunId = runId }, aborted).ConfigureAwait(false))
            {
                executor.StopLocal(runId);
                await WriteStoredAsync(context, cancelling).ConfigureAwait(false);
                return;
            }
        }

        await RejectAsync(context, logger, ApiError.InvalidRequest($"The run '{runId}' is changing; try again.", null)).ConfigureAwait(false);
    }

    public async Task SubmitToolOutputsAsync(HttpContext context, string threadId, string runId)
    {
        if (await ReadBodyAsync(context, settings, logger).ConfigureAwait(false) is not { } body)
        {
            return;
        }

        if (!AssistantRequestReader.TryReadToolOutputs(body, _limits, out var request, out var error))
        {
            await RejectAsync(context, logger, error).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        var aborted = context.RequestAborted;
        if (await FindRunAsync(context, store, threadId, runId).ConfigureAwait(false) is not { } stored)
        {
            return;
        }

        if (stored.Status != RunStatuses.RequiresAction)
        {
            await RejectAsync(context, logger, ApiError.InvalidRequest($"Runs in status \"{stored.Status}\" do not accept tool outputs.", null)).ConfigureAwait(false);
            return;
        }

        var run = Parse(stored, AssistantsJsonContext.Default.RunObject);
        var expected = run.RequiredAction!.Value.GetProperty("submit_tool_outputs"u8).GetProperty("tool_calls"u8).EnumerateArray()
            .Select(c => c.GetProperty("id"u8).GetString()!).ToList();
        var given = request.ToolOutputs.Select(o => o.ToolCallId).ToList();
        if (given.FirstOrDefault(id => !expected.Contains(id)) is { } unknown)
        {
            await RejectAsync(context, logger, ApiError.InvalidRequest($"Invalid 'tool_outputs': no tool call with id '{unknown}' awaits an output.", "tool_outputs", "invalid_value")).ConfigureAwait(false);
            return;
        }

        if (given.Distinct(StringComparer.Ordinal).Count() != given.Count || expected.Any(id => !given.Contains(id)))
        {
            await RejectAsync(context, logger, ApiError.InvalidRequest(
                $"Expected tool outputs for call_ids {Quote(expected)}, got {Quote(given)}", "tool_outputs", "invalid_value")).ConfigureAwait(false);
            return;
        }

        // The tool step of the last turn gets the outputs and completes; the run goes back to the queue.
        var steps = await store.GetChildrenAsync(AssistantObjectKinds.RunStep, runId, aborted).ConfigureAwait(false);
        var stepObject = steps.LastOrDefault(s => s.Status == "in_progress");
        var outputs = request.ToolOutputs.ToDictionary(o => o.ToolCallId, o => o.Output, StringComparer.Ordinal);
        var after = await store.GetLastRunEventSequenceAsync(runId, aborted).ConfigureAwait(false);
        var now = Now;
        var queued = run with { Status = RunStatuses.Queued, RequiredAction = null, ExpiresAt = null };
        var execution = new RunExecution(queued, after + 1, () => now);
        var objects = new List<StoredAssistantObject>();
        if (stepObject is not null)
        {
            var step = Parse(stepObject, AssistantsJsonContext.Default.RunStepObject);
            var details = System.Text.Json.Nodes.JsonNode.Parse(step.StepDetails.GetRawText())!.AsObject();
            foreach (var call in details["tool_calls"]!.AsArray())
            {
                if (outputs.TryGetValue(call!["id"]!.GetValue<string>(), out var output))
                {
                    call["function"]!["output"] = output;
                }
            }

            step = step with { Status = "completed", CompletedAt = now, StepDetails = JsonElement.Parse(details.ToJsonString(RunExecution.WireOptions)) };
            objects.Add(Stored(step));
            execution.Emit("thread.run.step.completed", Json(step, AssistantsJsonContext.Default.RunStepObject));
        }

        execution.SetRun(queued, "thread.run.queued");
        var (_, events) = execution.Drain();
        if (!await store.WriteAsync(
            new AssistantWrite { Guard = Stored(queued, executor.Owner, executor.LeaseUntil()), GuardStatuses = [RunStatuses.RequiresAction], Objects = objects, Events = events, EventsRunId = runId },
            aborted).ConfigureAwait(false))
        {
            await RejectAsync(context, logger, ApiError.InvalidRequest("The run is no longer waiting for tool outputs.", null)).ConfigureAwait(false);
            return;
        }

        executor.Start(store, runId, RequestIds.Get(context));
        if (request.Stream)
        {
            await StreamAsync(context, store, runId, after).ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, queued, AssistantsJsonContext.Default.RunObject).ConfigureAwait(false);
    }

    public async Task ListStepsAsync(HttpContext context, string threadId, string runId)
    {
        if (!TryReadQuery(context, out var query, out var invalid))
        {
            await RejectAsync(context, logger, invalid).ConfigureAwait(false);
            return;
        }

        var store = await StoreAsync(context).ConfigureAwait(false);
        if (await FindRunAsync(context, store, threadId, runId).ConfigureAwait(false) is null)
        {
            return;
        }

        await WriteListAsync(context, await store.ListObjectsAsync(AssistantObjectKinds.RunStep, runId, query, context.RequestAborted).ConfigureAwait(false)).ConfigureAwait(false);
    }

    public async Task GetStepAsync(HttpContext context, string threadId, string runId, string stepId)
    {
        var store = await StoreAsync(context).ConfigureAwait(false);
        if (await FindRunAsync(context, store, threadId, runId).ConfigureAwait(false) is null)
        {
            return;
        }

        var step = await store.GetObjectAsync(AssistantObjectKinds.RunStep, stepId, runId, context.RequestAborted).ConfigureAwait(false);
        if (step is null)
        {
            await RejectAsync(context, logger, NotFound("run step", stepId)).ConfigureAwait(false);
            return;
        }

        await WriteStoredAsync(context, step).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a run's stored events after <paramref name="after"/> as they are written, until the run is final or waits
    /// for tool outputs and every event is sent; then <c>done</c>.
    /// </summary>
    private async Task StreamAsync(HttpContext context, IAssistantStore store, string runId, long after)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var output = response.BodyWriter;
        try
        {
            var settled = false;
            while (true)
            {
                var events = await store.GetRunEventsAsync(runId, after, aborted).ConfigureAwait(false);
                foreach (var item in events)
                {
                    using var document = JsonDocument.Parse(item.Json);
                    output.Write("event: "u8);
                    output.Write(Encoding.UTF8.GetBytes(document.RootElement.GetProperty("event"u8).GetString()!));
                    output.Write("\ndata: "u8);
                    output.Write(Encoding.UTF8.GetBytes(document.RootElement.GetProperty("data"u8).GetRawText()));
                    output.Write("\n\n"u8);
                    after = item.Sequence;
                }

                if (events.Count > 0)
                {
                    await output.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }

                if (settled)
                {
                    output.Write("event: done\ndata: [DONE]\n\n"u8);
                    await output.FlushAsync(aborted).ConfigureAwait(false);
                    return;
                }

                // A run's settling events are written with its settled status: one more read after seeing it gets them all.
                var current = await store.GetObjectAsync(AssistantObjectKinds.Run, runId, null, aborted).ConfigureAwait(false);
                settled = current is null || current.Status == RunStatuses.RequiresAction || RunStatuses.IsFinal(current.Status!);
                if (!settled)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(25), time, aborted).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left; the run goes on.
        }
    }

    private static bool HasVectorStores(JsonElement resources) => RunExecutor.VectorStoreIds(resources).Any();

    private static string Quote(IEnumerable<string> ids) => "[" + string.Join(", ", ids.Select(id => "'" + id + "'")) + "]";
}
