namespace Capa.Storage.Tests.Assistants;

/// <summary>The behaviour every <see cref="IAssistantStore"/> must have, run once per database (SQLite, PostgreSQL).</summary>
public abstract class AssistantStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private IResponseStore? _store;

    protected CancellationToken Ct => _timeout.Token;

    /// <summary>Creates a store over a fresh, empty database (skipping the test when the database cannot run here).</summary>
    protected abstract Task<IResponseStore> CreateStoreAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _timeout.Dispose();
    }

    private async Task<IAssistantStore> StartAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(Ct);
        return _store.Assistants;
    }

    private static StoredAssistantObject Object(string kind, string? parent = null, string? status = null, string text = "中文 ✓", string? owner = null, long? lease = null)
    {
        var id = StoreIds.New(kind + "_");
        return new StoredAssistantObject
        {
            Id = id,
            Kind = kind,
            ParentId = parent,
            CreatedAt = 1_700_000_000,
            Status = status,
            Owner = owner,
            LeaseExpiresAt = lease,
            Json = $$"""{"id":"{{id}}","text":"{{text}}"}""",
        };
    }

    [SkippableFact]
    public async Task Objects_are_written_read_back_exactly_and_replaced_in_place()
    {
        var store = await StartAsync();
        var assistant = Object(AssistantObjectKinds.Assistant);
        Assert.True(await store.WriteAsync(new AssistantWrite { Objects = [assistant] }, Ct));
        Assert.Equal(assistant, await store.GetObjectAsync(AssistantObjectKinds.Assistant, assistant.Id, null, Ct));
        Assert.Null(await store.GetObjectAsync(AssistantObjectKinds.Thread, assistant.Id, null, Ct));

        var changed = assistant with { Json = """{"changed":true}""" };
        await store.WriteAsync(new AssistantWrite { Objects = [changed] }, Ct);
        Assert.Equal(changed, await store.GetObjectAsync(AssistantObjectKinds.Assistant, assistant.Id, null, Ct));
        var page = await store.ListObjectsAsync(AssistantObjectKinds.Assistant, null, new ItemQuery(), Ct);
        Assert.Equal([assistant.Id], page.Items.Select(i => i.Id));
    }

    [SkippableFact]
    public async Task Lists_page_in_creation_order_both_ways_within_their_parent()
    {
        var store = await StartAsync();
        var thread = Object(AssistantObjectKinds.Thread);
        var other = Object(AssistantObjectKinds.Thread);
        var messages = Enumerable.Range(0, 5).Select(i => Object(AssistantObjectKinds.Message, thread.Id, text: "m" + i)).ToList();
        await store.WriteAsync(new AssistantWrite { Objects = [thread, other, .. messages, Object(AssistantObjectKinds.Message, other.Id)] }, Ct);

        var first = await store.ListObjectsAsync(AssistantObjectKinds.Message, thread.Id, new ItemQuery { Limit = 2, Descending = false }, Ct);
        Assert.Equal(messages.Take(2).Select(m => m.Id), first.Items.Select(i => i.Id));
        Assert.True(first.HasMore);
        var rest = await store.ListObjectsAsync(AssistantObjectKinds.Message, thread.Id, new ItemQuery { Limit = 10, Descending = false, After = first.Items[^1].Id }, Ct);
        Assert.Equal(messages.Skip(2).Select(m => m.Id), rest.Items.Select(i => i.Id));
        Assert.False(rest.HasMore);

        var newest = await store.ListObjectsAsync(AssistantObjectKinds.Message, thread.Id, new ItemQuery { Limit = 2 }, Ct);
        Assert.Equal([messages[4].Id, messages[3].Id], newest.Items.Select(i => i.Id));
        var before = await store.ListObjectsAsync(AssistantObjectKinds.Message, thread.Id, new ItemQuery { Before = messages[1].Id }, Ct);
        Assert.Equal([messages[4].Id, messages[3].Id, messages[2].Id], before.Items.Select(i => i.Id));
        var unknown = await store.ListObjectsAsync(AssistantObjectKinds.Message, thread.Id, new ItemQuery { After = "msg_unknown" }, Ct);
        Assert.Empty(unknown.Items);
        Assert.Equal(messages.Select(m => m.Id), (await store.GetChildrenAsync(AssistantObjectKinds.Message, thread.Id, Ct)).Select(m => m.Id));
    }

    [SkippableFact]
    public async Task A_guarded_write_changes_nothing_unless_the_guarded_status_matches()
    {
        var store = await StartAsync();
        var run = Object(AssistantObjectKinds.Run, "thread_1", RunStatuses.InProgress, owner: "srv_a", lease: 5);
        await store.WriteAsync(new AssistantWrite { Objects = [run] }, Ct);

        var step = Object(AssistantObjectKinds.RunStep, run.Id, "in_progress");
        var cancelled = run with { Status = RunStatuses.Cancelling };
        Assert.True(await store.WriteAsync(new AssistantWrite { Guard = cancelled, GuardStatuses = [RunStatuses.InProgress] }, Ct));

        // A late write of the executor, guarded on in_progress, must not undo the cancel nor add its step or events.
        var late = new AssistantWrite
        {
            Guard = run with { Json = """{"late":true}""" },
            GuardStatuses = [RunStatuses.InProgress],
            Objects = [step],
            Events = [new StoredEvent(0, """{"event":"x"}""")],
            EventsRunId = run.Id,
        };
        Assert.False(await store.WriteAsync(late, Ct));
        Assert.Equal(cancelled, await store.GetObjectAsync(AssistantObjectKinds.Run, run.Id, "thread_1", Ct));
        Assert.Null(await store.GetObjectAsync(AssistantObjectKinds.RunStep, step.Id, null, Ct));
        Assert.Equal(-1, await store.GetLastRunEventSequenceAsync(run.Id, Ct));
        Assert.Null(await store.GetObjectAsync(AssistantObjectKinds.Run, run.Id, "thread_2", Ct));
    }

    [SkippableFact]
    public async Task A_json_guarded_write_is_a_compare_and_set_and_of_concurrent_writers_one_wins()
    {
        var store = await StartAsync();
        var thread = Object(AssistantObjectKinds.Thread);
        await store.WriteAsync(new AssistantWrite { Objects = [thread] }, Ct);
        var first = thread with { Json = """{"vector_store":"vs_a"}""" };
        Assert.True(await store.WriteAsync(new AssistantWrite { Guard = first, GuardJson = thread.Json }, Ct));

        // A writer that read the thread before that change changes nothing, not even its other objects.
        var message = Object(AssistantObjectKinds.Message, thread.Id);
        Assert.False(await store.WriteAsync(new AssistantWrite { Guard = thread with { Json = """{"vector_store":"vs_b"}""" }, GuardJson = thread.Json, Objects = [message] }, Ct));
        Assert.Equal(first, await store.GetObjectAsync(AssistantObjectKinds.Thread, thread.Id, null, Ct));
        Assert.Null(await store.GetObjectAsync(AssistantObjectKinds.Message, message.Id, thread.Id, Ct));

        // Writers racing from the same read: exactly one succeeds, and its object is the one stored.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            store.WriteAsync(new AssistantWrite { Guard = thread with { Json = $$"""{"vector_store":"vs_{{i}}"}""" }, GuardJson = first.Json }, Ct))));
        var winner = Assert.Single(Enumerable.Range(0, 8), i => results[i]);
        Assert.Equal($$"""{"vector_store":"vs_{{winner}}"}""", (await store.GetObjectAsync(AssistantObjectKinds.Thread, thread.Id, null, Ct))!.Json);
    }

    [SkippableFact]
    public async Task Run_events_are_numbered_after_the_last_and_read_after_a_sequence()
    {
        var store = await StartAsync();
        await store.WriteAsync(new AssistantWrite { Events = [new StoredEvent(0, "{\"n\":0}"), new StoredEvent(1, "{\"n\":1}")], EventsRunId = "run_1" }, Ct);
        await store.WriteAsync(new AssistantWrite { Events = [new StoredEvent(0, "{\"n\":\"中\"}")], EventsRunId = "run_1" }, Ct);
        Assert.Equal(2, await store.GetLastRunEventSequenceAsync("run_1", Ct));
        Assert.Equal(["{\"n\":1}", "{\"n\":\"中\"}"], (await store.GetRunEventsAsync("run_1", 0, Ct)).Select(e => e.Json));
        Assert.Empty(await store.GetRunEventsAsync("run_2", -1, Ct));
    }

    [SkippableFact]
    public async Task Abandoned_runs_are_those_of_this_owner_or_with_an_expired_lease_and_leases_renew()
    {
        var store = await StartAsync();
        var mine = Object(AssistantObjectKinds.Run, "t", RunStatuses.InProgress, owner: "srv_me", lease: 10_000);
        var expired = Object(AssistantObjectKinds.Run, "t", RunStatuses.Queued, owner: "srv_other", lease: 100);
        var alive = Object(AssistantObjectKinds.Run, "t", RunStatuses.Cancelling, owner: "srv_other", lease: 10_000);
        var waiting = Object(AssistantObjectKinds.Run, "t", RunStatuses.RequiresAction);
        var done = Object(AssistantObjectKinds.Run, "t", RunStatuses.Completed);
        await store.WriteAsync(new AssistantWrite { Objects = [mine, expired, alive, waiting, done] }, Ct);

        Assert.Equal([mine.Id, expired.Id], (await store.ListAbandonedRunsAsync("srv_me", 5_000, Ct)).Select(r => r.Id));
        Assert.True(await store.RenewRunLeaseAsync(expired.Id, "srv_other", 20_000, Ct));
        Assert.False(await store.RenewRunLeaseAsync(expired.Id, "srv_me", 20_000, Ct));
        Assert.Equal([mine.Id], (await store.ListAbandonedRunsAsync("srv_me", 5_000, Ct)).Select(r => r.Id));
    }

    [SkippableFact]
    public async Task Deleting_a_thread_deletes_its_messages_runs_steps_and_events()
    {
        var store = await StartAsync();
        var thread = Object(AssistantObjectKinds.Thread);
        var message = Object(AssistantObjectKinds.Message, thread.Id, "completed");
        var run = Object(AssistantObjectKinds.Run, thread.Id, RunStatuses.Completed);
        var step = Object(AssistantObjectKinds.RunStep, run.Id, "completed");
        var keep = Object(AssistantObjectKinds.Message, "thread_other", "completed");
        await store.WriteAsync(new AssistantWrite { Objects = [thread, message, run, step, keep], Events = [new StoredEvent(0, "{}")], EventsRunId = run.Id }, Ct);

        Assert.False(await store.DeleteObjectAsync(AssistantObjectKinds.Message, message.Id, "thread_other", Ct));
        Assert.True(await store.DeleteObjectAsync(AssistantObjectKinds.Thread, thread.Id, null, Ct));
        Assert.False(await store.DeleteObjectAsync(AssistantObjectKinds.Thread, thread.Id, null, Ct));
        foreach (var (kind, id) in new[] { (AssistantObjectKinds.Message, message.Id), (AssistantObjectKinds.Run, run.Id), (AssistantObjectKinds.RunStep, step.Id) })
        {
            Assert.Null(await store.GetObjectAsync(kind, id, null, Ct));
        }

        Assert.Empty(await store.GetRunEventsAsync(run.Id, -1, Ct));
        Assert.NotNull(await store.GetObjectAsync(AssistantObjectKinds.Message, keep.Id, null, Ct));
    }
}
