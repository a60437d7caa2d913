using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Capa.Protocol;
using Capa.Protocol.Responses;
using Capa.Server.Routing;
using Capa.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Capa.Server.Responses;

/// <summary>
/// Runs <c>background: true</c> responses after their request has been answered: each writes its events and final
/// state to the store as it goes, holds a lease renewed while it runs, and stops when cancelled. Responses nobody runs
/// any more (their server crashed) are marked failed: on start for SQLite, whose file one server owns; by expired
/// lease, checked periodically, for PostgreSQL, where servers share the store.
/// </summary>
internal sealed partial class BackgroundResponses : IHostedService, IAsyncDisposable
{
    /// <summary>How long a lease lasts; a running response renews it at a third of that.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly ResponseStoreAccessor _stores;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _sweeper;

    public BackgroundResponses(ResponseStoreAccessor stores, TimeProvider time, ILogger<BackgroundResponses> logger)
    {
        _stores = stores;
        _time = time;
        _logger = logger;
    }

    /// <summary>This server instance, as the owner of the responses it runs.</summary>
    public string Owner { get; } = StoreIds.New("srv_");

    public long LeaseUntil() => (_time.GetUtcNow() + Lease).ToUnixTimeMilliseconds();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Only a server that has state already has something to recover; a fresh one creates nothing here.
        if (!_stores.HasState)
        {
            return;
        }

        var store = await _stores.GetAsync(cancellationToken).ConfigureAwait(false);
        await SweepAsync(store, everything: !_stores.IsShared, cancellationToken).ConfigureAwait(false);
        if (_stores.IsShared)
        {
            _sweeper = _time.CreateTimer(_ => _ = SweepSafelyAsync(), null, Lease, Lease);
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

    /// <summary>Starts running a stored, queued response.</summary>
    public void Start(IResponseStore store, StoredResponse queued, CreateResponseRequest request, IReadOnlyList<ResponseItem> input, ResponseChatAttempts attempts, ResponseStreamBuilder builder)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _running[queued.Id] = cancel;
        var task = Task.Run(() => RunAsync(store, queued, request, input, attempts, builder, cancel.Token), CancellationToken.None);
        _tasks[task] = 0;
        _ = task.ContinueWith(
            t =>
            {
                _tasks.TryRemove(t, out _);
                if (_running.TryRemove(queued.Id, out var source))
                {
                    source.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Stops a response this server runs (its state is written by the caller).</summary>
    public void StopLocal(string responseId)
    {
        if (_running.TryGetValue(responseId, out var cancel))
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

    private async Task RunAsync(IResponseStore store, StoredResponse queued, CreateResponseRequest request, IReadOnlyList<ResponseItem> input, ResponseChatAttempts attempts, ResponseStreamBuilder builder, CancellationToken cancellationToken)
    {
        var nextRenewal = _time.GetUtcNow() + Lease / 3;
        try
        {
            var start = builder.Start();
            if (!await store.TryUpdateResponseAsync(Stored(queued, builder.Response, LeaseUntil()), null, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await AppendAsync(store, queued.Id, start, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<ResponseStreamEvent> final;
            try
            {
                var (chunks, more) = await attempts.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using var disposeChunks = chunks.ConfigureAwait(false);
                for (; more; more = await chunks.MoveNextAsync().ConfigureAwait(false))
                {
                    await AppendAsync(store, queued.Id, builder.Add(ResponsesEndpoint.ReadChunk(chunks.Current)), cancellationToken).ConfigureAwait(false);
                    if (_time.GetUtcNow() >= nextRenewal)
                    {
                        nextRenewal = _time.GetUtcNow() + Lease / 3;
                        if (!await store.RenewLeaseAsync(queued.Id, Owner, LeaseUntil(), cancellationToken).ConfigureAwait(false))
                        {
                            return; // Cancelled or deleted meanwhile.
                        }
                    }
                }

                final = builder.Finish(_time.GetUtcNow().ToUnixTimeSeconds());
            }
            catch (ChatProviderException e)
            {
                final = builder.Fail(attempts.ToResponsesError(e.Error));
            }

            var conversationItems = request.ConversationId is null ? null : input.Concat(builder.Response.Output).Select(ResponsesEndpoint.ToStored).ToList();

            // The final events go first: a reader that sees the final status in the store finds every event there.
            await AppendAsync(store, queued.Id, final, cancellationToken).ConfigureAwait(false);
            await store.TryUpdateResponseAsync(Stored(queued, builder.Response, null) with { Owner = null }, conversationItems, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (_stopping.IsCancellationRequested)
            {
                await MarkFailedAsync(store, queued.Id, "The server shut down before the response finished.", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRunFailed(_logger, queued.Id, e);
            await MarkFailedAsync(store, queued.Id, "The server had an error while processing your request.", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static StoredResponse Stored(StoredResponse queued, ResponseObject response, long? lease) => queued with
    {
        Status = response.Status,
        LeaseExpiresAt = lease,
        Json = Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(response, ResponsesJsonContext.Default.ResponseObject)),
    };

    private static Task AppendAsync(IResponseStore store, string id, IReadOnlyList<ResponseStreamEvent> events, CancellationToken cancellationToken) =>
        store.AppendEventsAsync(
            id,
            events.Select(e => new StoredEvent(e.SequenceNumber, Encoding.UTF8.GetString(CapaJsonContext.ToWireBytes(e, ResponsesJsonContext.Default.ResponseStreamEvent)))).ToList(),
            cancellationToken);

    /// <summary>
    /// Ends an unfinished response with a final status (failed or cancelled), with the event that tells readers of its
    /// stream; returns the response as stored, or null when it was already final.
    /// </summary>
    public static async Task<ResponseObject?> FinishUnfinishedAsync(IResponseStore store, StoredResponse stored, string status, ResponseErrorInfo? error, CancellationToken cancellationToken)
    {
        var response = JsonSerializer.Deserialize(stored.Json, ResponsesJsonContext.Default.ResponseObject)!;
        var final = response with { Status = status, Error = error };
        var events = await store.GetEventsAsync(stored.Id, -1, cancellationToken).ConfigureAwait(false);
        var next = events.Count == 0 ? 0 : events[^1].Sequence + 1;
        if (!await store.TryUpdateResponseAsync(Stored(stored, final, null) with { Owner = null }, null, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        // A failure is announced on the stream (response.failed); a cancelled stream just ends, as OpenAI's does.
        if (status == ResponseStatuses.Failed)
        {
            await AppendAsync(store, stored.Id, [new ResponseStreamEvent { Type = ResponseEventTypes.Failed, SequenceNumber = next, Response = final }], cancellationToken).ConfigureAwait(false);
        }

        return final;
    }

    private async Task MarkFailedAsync(IResponseStore store, string id, string message, CancellationToken cancellationToken)
    {
        try
        {
            if (await store.GetResponseAsync(id, cancellationToken).ConfigureAwait(false) is { } stored && ResponseStatuses.IsUnfinished(stored.Status))
            {
                await FinishUnfinishedAsync(store, stored, ResponseStatuses.Failed, new ResponseErrorInfo { Code = "server_error", Message = message }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or StoreConflictException)
        {
            LogRunFailed(_logger, id, e);
        }
    }

    private async Task SweepSafelyAsync()
    {
        try
        {
            await SweepAsync(await _stores.GetAsync(_stopping.Token).ConfigureAwait(false), everything: false, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or OperationCanceledException)
        {
            // The next sweep retries.
        }
    }

    private async Task SweepAsync(IResponseStore store, bool everything, CancellationToken cancellationToken)
    {
        var now = everything ? long.MaxValue : _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var abandoned in await store.ListAbandonedAsync(Owner, now, cancellationToken).ConfigureAwait(false))
        {
            if (_running.ContainsKey(abandoned.Id))
            {
                continue;
            }

            LogAbandoned(_logger, abandoned.Id);
            await FinishUnfinishedAsync(store, abandoned, ResponseStatuses.Failed,
                new ResponseErrorInfo { Code = "server_error", Message = "The server running this response stopped before it finished." }, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(40, LogLevel.Error, "Background response {ResponseId} failed")]
    private static partial void LogRunFailed(ILogger logger, string responseId, Exception exception);

    [LoggerMessage(41, LogLevel.Warning, "Background response {ResponseId} was left unfinished by a stopped server: marked failed")]
    private static partial void LogAbandoned(ILogger logger, string responseId);
}
