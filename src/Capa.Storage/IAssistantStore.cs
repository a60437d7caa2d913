namespace Capa.Storage;

/// <summary>
/// Durable state of the Assistants API (v2): assistants, threads, messages, runs and run steps as JSON documents, and
/// the streamed events of runs. Objects are kept in one table, each with its kind, its parent (a thread for messages and
/// runs, a run for run steps) and a position that orders listings by creation.
/// </summary>
/// <remarks>
/// Implementations are thread-safe. Every method is atomic: a crash leaves all of a call's writes or none, so a run,
/// its message and its steps always change together.
/// </remarks>
public interface IAssistantStore
{
    /// <summary>
    /// Writes objects (inserted when new, replaced when stored) and run events in one transaction. With a
    /// <see cref="AssistantWrite.Guard"/>, the guarded object is updated only while its stored status is one of
    /// <see cref="AssistantWrite.GuardStatuses"/>; otherwise nothing is written and the result is <see langword="false"/>.
    /// </summary>
    Task<bool> WriteAsync(AssistantWrite write, CancellationToken cancellationToken);

    /// <summary>An object of a kind (under a parent when given), or <see langword="null"/>.</summary>
    Task<StoredAssistantObject?> GetObjectAsync(string kind, string id, string? parentId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes an object of a kind (under a parent when given) with everything below it (a thread's messages, runs,
    /// run steps and run events); <see langword="false"/> when there was none.
    /// </summary>
    Task<bool> DeleteObjectAsync(string kind, string id, string? parentId, CancellationToken cancellationToken);

    /// <summary>A page of the objects of a kind under a parent (<see langword="null"/> for top-level objects), in creation order.</summary>
    Task<ItemPage> ListObjectsAsync(string kind, string? parentId, ItemQuery query, CancellationToken cancellationToken);

    /// <summary>Every object of a kind under a parent, oldest first.</summary>
    Task<IReadOnlyList<StoredAssistantObject>> GetChildrenAsync(string kind, string parentId, CancellationToken cancellationToken);

    /// <summary>
    /// Runs being executed that nobody executes any more: those <paramref name="owner"/> owned before it restarted, and
    /// those whose lease ended before <paramref name="now"/> (Unix milliseconds).
    /// </summary>
    Task<IReadOnlyList<StoredAssistantObject>> ListAbandonedRunsAsync(string owner, long now, CancellationToken cancellationToken);

    /// <summary>Extends the lease of a run that <paramref name="owner"/> executes; <see langword="false"/> when it no longer does.</summary>
    Task<bool> RenewRunLeaseAsync(string runId, string owner, long leaseExpiresAt, CancellationToken cancellationToken);

    /// <summary>The stored events of a run after <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<StoredEvent>> GetRunEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken);

    /// <summary>The sequence number of a run's last event, or -1 when it has none.</summary>
    Task<long> GetLastRunEventSequenceAsync(string runId, CancellationToken cancellationToken);
}

/// <summary>Kinds of Assistants API objects, as stored.</summary>
public static class AssistantObjectKinds
{
    /// <summary>An assistant (<c>asst_...</c>).</summary>
    public const string Assistant = "assistant";

    /// <summary>A thread (<c>thread_...</c>).</summary>
    public const string Thread = "thread";

    /// <summary>A message of a thread (<c>msg_...</c>).</summary>
    public const string Message = "message";

    /// <summary>A run on a thread (<c>run_...</c>).</summary>
    public const string Run = "run";

    /// <summary>A step of a run (<c>step_...</c>).</summary>
    public const string RunStep = "run_step";
}

/// <summary>Run statuses of the Assistants API.</summary>
public static class RunStatuses
{
    /// <summary><c>queued</c>.</summary>
    public const string Queued = "queued";

    /// <summary><c>in_progress</c>.</summary>
    public const string InProgress = "in_progress";

    /// <summary><c>requires_action</c>: waiting for tool outputs.</summary>
    public const string RequiresAction = "requires_action";

    /// <summary><c>cancelling</c>.</summary>
    public const string Cancelling = "cancelling";

    /// <summary><c>cancelled</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary><c>failed</c>.</summary>
    public const string Failed = "failed";

    /// <summary><c>completed</c>.</summary>
    public const string Completed = "completed";

    /// <summary><c>incomplete</c>.</summary>
    public const string Incomplete = "incomplete";

    /// <summary><c>expired</c>.</summary>
    public const string Expired = "expired";

    /// <summary>Statuses of a run that a server is executing.</summary>
    public static IReadOnlyList<string> Executing { get; } = [Queued, InProgress, Cancelling];

    /// <summary>Statuses of a run that may still change.</summary>
    public static IReadOnlyList<string> Active { get; } = [Queued, InProgress, RequiresAction, Cancelling];

    /// <summary>Whether a run with this status is final.</summary>
    public static bool IsFinal(string status) => !Active.Contains(status);
}

/// <summary>A stored Assistants API object.</summary>
public sealed record StoredAssistantObject
{
    /// <summary>The object id.</summary>
    public required string Id { get; init; }

    /// <summary>One of <see cref="AssistantObjectKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The thread of a message or run, the run of a run step; null for assistants and threads.</summary>
    public string? ParentId { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The status of a run or run step (as in <see cref="Json"/>), or null.</summary>
    public string? Status { get; init; }

    /// <summary>The server executing a run, or null.</summary>
    public string? Owner { get; init; }

    /// <summary>Unix time in milliseconds until which <see cref="Owner"/> holds the run.</summary>
    public long? LeaseExpiresAt { get; init; }

    /// <summary>The object as the API returns it (UTF-8 JSON text).</summary>
    public required string Json { get; init; }
}

/// <summary>One atomic write of <see cref="IAssistantStore.WriteAsync"/>.</summary>
public sealed record AssistantWrite
{
    /// <summary>An object to update only while its stored status is one of <see cref="GuardStatuses"/>, or null.</summary>
    public StoredAssistantObject? Guard { get; init; }

    /// <summary>The statuses the guarded object may have.</summary>
    public IReadOnlyList<string> GuardStatuses { get; init; } = [];

    /// <summary>
    /// When set, the guarded object is updated only while its stored JSON is still exactly this text: a compare-and-set
    /// of the whole object, for objects without a status (a thread whose tool resources two requests set at once).
    /// </summary>
    public string? GuardJson { get; init; }

    /// <summary>Objects to insert or replace.</summary>
    public IReadOnlyList<StoredAssistantObject> Objects { get; init; } = [];

    /// <summary>The run the <see cref="Events"/> belong to.</summary>
    public string? EventsRunId { get; init; }

    /// <summary>Run events to append, in order; the store numbers them after the run's last event (their <see cref="StoredEvent.Sequence"/> is ignored).</summary>
    public IReadOnlyList<StoredEvent> Events { get; init; } = [];
}
