using System.Collections.Concurrent;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Assistants;
using Capa.Protocol.Responses;
using Capa.Server.Responses;
using Capa.Server.Routing;
using Capa.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static Capa.Server.Assistants.AssistantsHttp;

namespace Capa.Server.Assistants;

/// <summary>
/// Executes runs in the background, each model turn as a response of the Responses machinery (<see cref="RunPlanner"/>,
/// <see cref="ResponseStreamBuilder"/>), writing the run, its steps, its message and its events to the store as it goes,
/// each chunk in one transaction guarded on the run still being <c>in_progress</c> (so a cancel always wins). A run
/// holds a lease while it executes; runs nobody executes any more (their server crashed) end as failed: on start for
/// SQLite, by expired lease for PostgreSQL. A run waiting for tool outputs survives a restart: it is state, not a task.
/// </summary>
internal sealed partial class RunExecutor : IHostedService, IAsyncDisposable
{
    /// <summary>How long a run waits for tool outputs before it expires.</summary>
    public static readonly TimeSpan ToolOutputsTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How long a run waits for its vector stores' files to be ingested before it searches: 60 s, as OpenAI's.</summary>
    public static readonly TimeSpan IngestionWait = TimeSpan.FromSeconds(60);

    private readonly ResponseStoreAccessor _stores;
    private readonly RunPlanner _planner;
    private readonly VectorStores.FileSearchRunner? _fileSearch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _sweeper;

    public RunExecutor(ResponseStoreAccessor stores, RunPlanner planner, TimeProvider time, ILogger<RunExecutor> logger, VectorStores.FileSearchRunner? fileSearch = null)
    {
        _stores = stores;
        _planner = planner;
        _fileSearch = fileSearch;
        _time = time;
        _logger = logger;
    }

    /// <summary>This server instance, as the owner of the runs it executes.</summary>
    public string Owner { get; } = StoreIds.New("srv_");

    /// <summary>Whether runs can use the <c>file_search</c> tool (the vector store service is registered).</summary>
    public bool CanSearchFiles => _fileSearch is not null;

    public long LeaseUntil() => (_time.GetUtcNow() + BackgroundResponses.Lease).ToUnixTimeMilliseconds();

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_stores.HasState)
        {
            return;
        }

        var store = await _stores.GetAsync(cancellationToken).ConfigureAwait(false);
        await SweepAsync(store.Assistants, everything: !_stores.IsShared, cancellationToken).ConfigureAwait(false);
        if (_stores.IsShared)
        {
            _sweeper = _time.CreateTimer(_ => _ = SweepSafelyAsync(), null, BackgroundResponses.Lease, BackgroundResponses.Lease);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_tasks.Keys).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>Starts executing a stored, queued run.</summary>
    public void Start(IAssistantStore store, string runId, string requestId)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _running[runId] = cancel;
        var task = Task.Run(() => ExecuteAsync(store, runId, requestId, cancel.Token), CancellationToken.None);
        _tasks[task] = 0;
        _ = task.ContinueWith(
            t =>
            {
                _tasks.TryRemove(t, out _);
                if (_running.TryRemove(runId, out var source))
                {
                    source.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Stops a run this server executes; it then ends as cancelled.</summary>
    public void StopLocal(string runId)
    {
        if (_running.TryGetValue(runId, out var cancel))
        {
            try
            {
                cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It finished meanwhile.
            }
        }
    }

    private async Task<bool> WriteAsync(IAssistantStore store, RunExecution execution, string guardStatus, bool release, CancellationToken cancellationToken)
    {
        var (objects, events) = execution.Drain();
        var final = release || RunStatuses.IsFinal(execution.Run.Status) || execution.Run.Status == RunStatuses.RequiresAction;
        return await store.WriteAsync(
            new AssistantWrite
            {
                Guard = Stored(execution.Run, final ? null : Owner, final ? null : LeaseUntil()),
                GuardStatuses = [guardStatus],
                Objects = objects,
                Events = events,
                EventsRunId = execution.Run.Id,
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task ExecuteAsync(IAssistantStore store, string runId, string requestId, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await store.GetObjectAsync(AssistantObjectKinds.Run, runId, null, cancellationToken).ConfigureAwait(false);
            if (stored is null || stored.Status != RunStatuses.Queued)
            {
                return;
            }

            var run = Parse(stored, AssistantsJsonContext.Default.RunObject);
            var execution = new RunExecution(run, await store.GetLastRunEventSequenceAsync(runId, cancellationToken).ConfigureAwait(false) + 1, Now);
            execution.SetRun(run with { Status = RunStatuses.InProgress, StartedAt = run.StartedAt ?? Now() }, "thread.run.in_progress");
            if (!await WriteAsync(store, execution, RunStatuses.Queued, release: false, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await TurnAsync(store, execution, requestId, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var shutdown = _stopping.IsCancellationRequested;
            await FinishSafelyAsync(store, runId, shutdown ? RunStatuses.Failed : RunStatuses.Cancelled,
                shutdown ? new RunError { Code = "server_error", Message = "The server shut down before the run finished." } : null).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRunFailed(_logger, runId, e);
            await FinishSafelyAsync(store, runId, RunStatuses.Failed, new RunError { Code = "server_error", Message = "The server had an error while processing your request." }).ConfigureAwait(false);
        }
    }

    private async Task TurnAsync(IAssistantStore store, RunExecution execution, string requestId, CancellationToken cancellationToken)
    {
        var run = execution.Run;
        var (turns, searched) = await BuildTurnsAsync(store, run, cancellationToken).ConfigureAwait(false);
        if (await SearchFilesAsync(store, execution, turns, searched, cancellationToken).ConfigureAwait(false) is { } searchError)
        {
            execution.Fail(ToRunError(searchError), null);
            await WriteAsync(store, execution, RunStatuses.InProgress, release: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var used = run.Usage ?? new RunUsage();
        int? maxOutput = run.MaxCompletionTokens is { } maxCompletion ? maxCompletion - used.CompletionTokens : null;
        var exhausted = run.MaxPromptTokens is { } maxPrompt && used.PromptTokens >= maxPrompt ? "max_prompt_tokens"
            : maxOutput is <= 0 ? "max_completion_tokens" : null;
        if (exhausted is not null)
        {
            execution.SetRun(run with { Status = RunStatuses.Incomplete, IncompleteDetails = JsonElement.Parse($$"""{"reason":"{{exhausted}}"}""") }, "thread.run.incomplete");
            await WriteAsync(store, execution, RunStatuses.InProgress, release: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (plan, error) = await _planner.PlanAsync(run, turns, maxOutput, requestId, cancellationToken).ConfigureAwait(false);
        if (plan is null)
        {
            execution.Fail(ToRunError(error!), null);
            await WriteAsync(store, execution, RunStatuses.InProgress, release: true, cancellationToken).ConfigureAwait(false);
            return;
        }

        var builder = new ResponseStreamBuilder(
            new ResponseObject { Id = StoreIds.NewResponseId(), CreatedAt = Now(), Status = ResponseStatuses.InProgress, Model = run.Model }, logprobs: false);
        builder.Start();
        var nextWrite = _time.GetUtcNow() + BackgroundResponses.Lease / 3;
        try
        {
            await foreach (var chunk in plan.Provider.StreamAsync(plan.Call, cancellationToken).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                execution.Add(builder.Add(ResponsesEndpoint.ReadChunk(chunk)));
                var pending = execution.Drain();
                if (pending.Objects.Count == 0 && pending.Events.Count == 0 && _time.GetUtcNow() < nextWrite)
                {
                    continue;
                }

                nextWrite = _time.GetUtcNow() + BackgroundResponses.Lease / 3;
                if (!await store.WriteAsync(
                    new AssistantWrite
                    {
                        Guard = Stored(execution.Run, Owner, LeaseUntil()),
                        GuardStatuses = [RunStatuses.InProgress],
                        Objects = pending.Objects,
                        Events = pending.Events,
                        EventsRunId = run.Id,
                    },
                    cancellationToken).ConfigureAwait(false))
                {
                    await LostAsync(store, run.Id).ConfigureAwait(false);
                    return;
                }
            }

            execution.Add(builder.Finish(Now()));
            execution.Finish(builder.Response);
        }
        catch (ChatProviderException e)
        {
            builder.Fail(ResponsesChatRequest.ToResponsesError(e.Error));
            execution.Fail(ToRunError(e.Error), builder.Response);
        }

        if (!await WriteAsync(store, execution, RunStatuses.InProgress, release: true, cancellationToken).ConfigureAwait(false))
        {
            await LostAsync(store, run.Id).ConfigureAwait(false);
        }
    }

    /// <summary>The run stopped being <c>in_progress</c> under us: a cancel (finished here as cancelled), or a delete.</summary>
    private async Task LostAsync(IAssistantStore store, string runId)
    {
        var current = await store.GetObjectAsync(AssistantObjectKinds.Run, runId, null, CancellationToken.None).ConfigureAwait(false);
        if (current?.Status == RunStatuses.Cancelling)
        {
            await FinishSafelyAsync(store, runId, RunStatuses.Cancelled, null).ConfigureAwait(false);
        }
    }

    private static RunError ToRunError(ApiError error) => new()
    {
        Code = error.Status == 429 ? "rate_limit_exceeded" : error.Status is >= 400 and < 500 ? "invalid_prompt" : "server_error",
        Message = error.Message,
    };

    /// <summary>
    /// Runs the <c>file_search</c> tool when the run has it and the assistant or thread has vector stores: the last user
    /// message is the query, the excerpts join the conversation right after it (for this turn only, so they are searched
    /// again on each turn and never stored as messages), the first turn records the search as a completed
    /// <c>tool_calls</c> step, and the files found are cited on the answer. Returns the error that fails the run (a
    /// vector store deleted since it was attached).
    /// </summary>
    private async Task<ApiError?> SearchFilesAsync(IAssistantStore store, RunExecution execution, List<RunPlanner.Turn> turns, bool searchedBefore, CancellationToken cancellationToken)
    {
        var run = execution.Run;
        var tool = run.Tools.FirstOrDefault(t => t.GetProperty("type"u8).ValueEquals("file_search"u8));
        if (_fileSearch is null || tool.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var vectorStoreIds = new List<string>();
        foreach (var (kind, id) in new[] { (AssistantObjectKinds.Assistant, run.AssistantId), (AssistantObjectKinds.Thread, run.ThreadId) })
        {
            if (await store.GetObjectAsync(kind, id, null, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                using var document = JsonDocument.Parse(stored.Json);
                vectorStoreIds.AddRange(VectorStoreIds(document.RootElement.TryGetProperty("tool_resources"u8, out var resources) ? resources : default));
            }
        }

        var question = turns.FindLastIndex(t => t.Role == "user" && t.Text is not null);
        if (vectorStoreIds.Count == 0 || question < 0)
        {
            return null;
        }

        await WaitForIngestionAsync(store, execution, vectorStoreIds, cancellationToken).ConfigureAwait(false);
        var settings = tool.TryGetProperty("file_search"u8, out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var maxResults = settings.ValueKind == JsonValueKind.Object && settings.TryGetProperty("max_num_results"u8, out var max) && max.ValueKind == JsonValueKind.Number
            ? max.GetInt32() : DefaultMaxNumResults;
        var ranking = settings.ValueKind == JsonValueKind.Object && settings.TryGetProperty("ranking_options"u8, out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
        var ranker = ranking.ValueKind == JsonValueKind.Object && ranking.TryGetProperty("ranker"u8, out var rk) && rk.ValueKind == JsonValueKind.String ? rk.GetString()! : "auto";
        var threshold = ranking.ValueKind == JsonValueKind.Object && ranking.TryGetProperty("score_threshold"u8, out var th) && th.ValueKind == JsonValueKind.Number ? th.GetDouble() : 0;

        var query = VectorStores.FileSearchRunner.ToQuery(turns[question].Text);
        var (results, error) = await _fileSearch.SearchAsync(
            vectorStoreIds, query, maxResults, null, new Protocol.VectorStores.RankingOptions { ScoreThreshold = threshold }, "tool_resources.file_search.vector_store_ids", cancellationToken).ConfigureAwait(false);
        if (results is null)
        {
            return error;
        }

        if (!searchedBefore)
        {
            execution.AddFileSearch(ranker, threshold, results.Select(x => (x.Hit.Chunk.FileId, x.File?.Filename ?? "", x.Hit.Score)));
        }

        if (results.Count > 0)
        {
            turns.Insert(question + 1, new RunPlanner.Turn("developer", VectorStores.FileSearchRunner.ContextText(query, results), null));
            execution.CiteFiles(results.Select(x => x.Hit.Chunk.FileId).Distinct(StringComparer.Ordinal).ToList());
        }

        return null;
    }

    /// <summary>
    /// Waits, at most <see cref="IngestionWait"/>, until the files of the vector stores are ingested (a message's
    /// attachments are ingested in the background), keeping the run's lease meanwhile; then the search takes what is
    /// ready, as OpenAI's runs do.
    /// </summary>
    private async Task WaitForIngestionAsync(IAssistantStore store, RunExecution execution, IReadOnlyList<string> vectorStoreIds, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + IngestionWait;
        var renew = _time.GetUtcNow() + (BackgroundResponses.Lease / 3);
        while (_time.GetUtcNow() < deadline && await _fileSearch!.IsIngestingAsync(vectorStoreIds, cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
            if (_time.GetUtcNow() >= renew)
            {
                renew = _time.GetUtcNow() + (BackgroundResponses.Lease / 3);
                if (!await WriteAsync(store, execution, RunStatuses.InProgress, release: false, cancellationToken).ConfigureAwait(false))
                {
                    return; // Cancelled or deleted meanwhile: the next write finds out and ends the run.
                }
            }
        }
    }

    /// <summary>OpenAI's default number of file search results for an assistant's <c>file_search</c> tool.</summary>
    private const int DefaultMaxNumResults = 20;

    /// <summary>The vector store ids of a <c>tool_resources</c> object.</summary>
    internal static IEnumerable<string> VectorStoreIds(JsonElement resources) =>
        resources.ValueKind == JsonValueKind.Object && resources.TryGetProperty("file_search"u8, out var search) && search.ValueKind == JsonValueKind.Object
        && search.TryGetProperty("vector_store_ids"u8, out var ids) && ids.ValueKind == JsonValueKind.Array
            ? ids.EnumerateArray().Where(id => id.ValueKind == JsonValueKind.String).Select(id => id.GetString()!).ToList()
            : [];

    /// <summary>
    /// The run's conversation: the thread's messages (truncated as the run says), then the run's own steps; and whether
    /// the run already searched its files (a <c>file_search</c> step).
    /// </summary>
    private static async Task<(List<RunPlanner.Turn> Turns, bool Searched)> BuildTurnsAsync(IAssistantStore store, RunObject run, CancellationToken cancellationToken)
    {
        var messages = (await store.GetChildrenAsync(AssistantObjectKinds.Message, run.ThreadId, cancellationToken).ConfigureAwait(false))
            .Select(m => Parse(m, AssistantsJsonContext.Default.MessageObject))
            .ToList();
        var thread = messages.Where(m => m.RunId != run.Id).Select(m => new RunPlanner.Turn(m.Role, m.GetText(), null)).ToList();
        if (run.TruncationStrategy.TryGetProperty("last_messages"u8, out var last) && last.ValueKind == JsonValueKind.Number && last.GetInt32() < thread.Count)
        {
            thread = thread.TakeLast(last.GetInt32()).ToList();
        }

        var own = messages.Where(m => m.RunId == run.Id).ToDictionary(m => m.Id, StringComparer.Ordinal);
        var searched = false;
        foreach (var stored in await store.GetChildrenAsync(AssistantObjectKinds.RunStep, run.Id, cancellationToken).ConfigureAwait(false))
        {
            var step = Parse(stored, AssistantsJsonContext.Default.RunStepObject);
            if (step.Type == "message_creation")
            {
                var id = step.StepDetails.GetProperty("message_creation"u8).GetProperty("message_id"u8).GetString()!;
                if (own.TryGetValue(id, out var message) && message.GetText() is { Length: > 0 } text)
                {
                    thread.Add(new RunPlanner.Turn("assistant", text, null));
                }

                continue;
            }

            var calls = new List<RunPlanner.ToolCallTurn>();
            foreach (var call in step.StepDetails.GetProperty("tool_calls"u8).EnumerateArray())
            {
                if (!call.GetProperty("type"u8).ValueEquals("function"u8))
                {
                    searched |= call.GetProperty("type"u8).ValueEquals("file_search"u8);
                    continue;
                }

                var function = call.GetProperty("function"u8);
                var output = function.TryGetProperty("output"u8, out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;
                calls.Add(new RunPlanner.ToolCallTurn(call.GetProperty("id"u8).GetString()!, function.GetProperty("name"u8).GetString()!, function.GetProperty("arguments"u8).GetString()!, output));
            }

            if (calls.Count > 0)
            {
                thread.Add(new RunPlanner.Turn("assistant", null, calls));
            }
        }

        return (thread, searched);
    }

    private async Task FinishSafelyAsync(IAssistantStore store, string runId, string status, RunError? error)
    {
        try
        {
            await FinishAsync(store, runId, status, error, Now(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or StoreConflictException)
        {
            LogRunFailed(_logger, runId, e);
        }
    }

    /// <summary>
    /// Ends a run that is not final with <paramref name="status"/> (cancelled, failed, expired): its open steps end the
    /// same way, its open messages are incomplete, each with its event. Returns the run as stored, or null when gone.
    /// </summary>
    public static async Task<StoredAssistantObject?> FinishAsync(IAssistantStore store, string runId, string status, RunError? error, long now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var stored = await store.GetObjectAsync(AssistantObjectKinds.Run, runId, null, cancellationToken).ConfigureAwait(false);
            if (stored is null || RunStatuses.IsFinal(stored.Status!))
            {
                return stored;
            }

            var run = Parse(stored, AssistantsJsonContext.Default.RunObject);
            var execution = new RunExecution(run, await store.GetLastRunEventSequenceAsync(runId, cancellationToken).ConfigureAwait(false) + 1, () => now);
            var objects = new List<StoredAssistantObject>();
            var stepStatus = status == RunStatuses.Failed ? "failed" : status;
            foreach (var stepObject in await store.GetChildrenAsync(AssistantObjectKinds.RunStep, runId, cancellationToken).ConfigureAwait(false))
            {
                if (stepObject.Status != "in_progress")
                {
                    continue;
                }

                var step = Parse(stepObject, AssistantsJsonContext.Default.RunStepObject) with
                {
                    Status = stepStatus,
                    CancelledAt = stepStatus == "cancelled" ? now : null,
                    FailedAt = stepStatus == "failed" ? now : null,
                    ExpiredAt = stepStatus == "expired" ? now : null,
                    LastError = stepStatus == "failed" ? error : null,
                };
                objects.Add(Stored(step));
                execution.Emit("thread.run.step." + stepStatus, Json(step, AssistantsJsonContext.Default.RunStepObject));
            }

            foreach (var messageObject in await store.GetChildrenAsync(AssistantObjectKinds.Message, run.ThreadId, cancellationToken).ConfigureAwait(false))
            {
                if (messageObject.Status != "in_progress")
                {
                    continue;
                }

                var message = Parse(messageObject, AssistantsJsonContext.Default.MessageObject);
                if (message.RunId != runId)
                {
                    continue;
                }

                var reason = status switch { RunStatuses.Cancelled => "run_cancelled", RunStatuses.Expired => "run_expired", _ => "run_failed" };
                message = message with { Status = "incomplete", IncompleteAt = now, IncompleteDetails = JsonElement.Parse($$"""{"reason":"{{reason}}"}""") };
                objects.Add(Stored(message));
                execution.Emit("thread.message.incomplete", Json(message, AssistantsJsonContext.Default.MessageObject));
            }

            execution.SetRun(run with
            {
                Status = status,
                RequiredAction = null,
                CancelledAt = status == RunStatuses.Cancelled ? now : run.CancelledAt,
                FailedAt = status == RunStatuses.Failed ? now : run.FailedAt,
                LastError = error ?? run.LastError,
                Usage = run.Usage ?? new RunUsage(),
            }, "thread.run." + status);
            var (_, events) = execution.Drain();
            var final = Stored(execution.Run, null, null);
            if (await store.WriteAsync(new AssistantWrite { Guard = final, GuardStatuses = [stored.Status!], Objects = objects, Events = events, EventsRunId = runId }, cancellationToken).ConfigureAwait(false))
            {
                return final;
            }
        }

        return await store.GetObjectAsync(AssistantObjectKinds.Run, runId, null, cancellationToken).ConfigureAwait(false);
    }

    private async Task SweepSafelyAsync()
    {
        try
        {
            var store = await _stores.GetAsync(_stopping.Token).ConfigureAwait(false);
            await SweepAsync(store.Assistants, everything: false, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or OperationCanceledException)
        {
            // The next sweep retries.
        }
    }

    private async Task SweepAsync(IAssistantStore store, bool everything, CancellationToken cancellationToken)
    {
        var now = everything ? long.MaxValue : _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var abandoned in await store.ListAbandonedRunsAsync(Owner, now, cancellationToken).ConfigureAwait(false))
        {
            if (_running.ContainsKey(abandoned.Id))
            {
                continue;
            }

            LogAbandoned(_logger, abandoned.Id);
            var cancelling = abandoned.Status == RunStatuses.Cancelling;
            await FinishAsync(store, abandoned.Id, cancelling ? RunStatuses.Cancelled : RunStatuses.Failed,
                cancelling ? null : new RunError { Code = "server_error", Message = "The server executing this run stopped before it finished." }, Now(), cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(45, LogLevel.Error, "Run {RunId} failed")]
    private static partial void LogRunFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(46, LogLevel.Warning, "Run {RunId} was left unfinished by a stopped server: ended")]
    private static partial void LogAbandoned(ILogger logger, string runId);
}
