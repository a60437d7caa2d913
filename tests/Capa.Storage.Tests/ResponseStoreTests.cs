namespace Capa.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IResponseStore"/> must have, run once per implementation (SQLite, PostgreSQL).
/// </summary>
public abstract class ResponseStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private IResponseStore? _store;

    /// <summary>Bounds every store call of a test, so a lock that never frees fails the test instead of hanging it.</summary>
    protected CancellationToken Ct => _timeout.Token;

    protected IResponseStore Store => _store ?? throw new InvalidOperationException("The store is not created.");

    /// <summary>Creates a store over a fresh, empty database (skipping the test when the database cannot run here).</summary>
    protected abstract Task<IResponseStore> CreateStoreAsync();

    /// <summary>A second store over the same database, as another server (or this one after a restart) sees it.</summary>
    protected abstract Task<IResponseStore> ReopenAsync();

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _timeout.Dispose();
    }

    private async Task<IResponseStore> StartAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(Ct);
        return _store;
    }

    private static StoredResponse Response(string? previous = null, string status = ResponseStatuses.Completed, string? conversation = null, string? owner = null, long? lease = null, long created = 1_700_000_000)
    {
        var id = StoreIds.NewResponseId();
        return new StoredResponse
        {
            Id = id,
            CreatedAt = created,
            Status = status,
            PreviousResponseId = previous,
            ConversationId = conversation,
            Owner = owner,
            LeaseExpiresAt = lease,
            Json = $$"""{"id":"{{id}}","status":"{{status}}","text":"中文 ✓"}""",
        };
    }

    private static StoredItem Item(string text) => new(StoreIds.NewMessageId(), $$"""{"type":"message","text":"{{text}}"}""");

    private static List<StoredItem> Items(int count) => Enumerable.Range(0, count).Select(i => Item("item " + i)).ToList();

    [SkippableFact]
    public async Task A_response_is_stored_with_its_input_items_and_read_back_exactly()
    {
        var store = await StartAsync();
        var response = Response();
        var items = Items(3);
        await store.CreateResponseAsync(response, items, null, Ct);

        Assert.Equal(response, await store.GetResponseAsync(response.Id, Ct));
        var page = await store.ListInputItemsAsync(response.Id, new ItemQuery { Descending = false }, Ct);
        Assert.NotNull(page);
        Assert.Equal(items, page.Items);
        Assert.False(page.HasMore);
        Assert.Null(await store.GetResponseAsync(StoreIds.NewResponseId(), Ct));
        Assert.Null(await store.ListInputItemsAsync(StoreIds.NewResponseId(), new ItemQuery(), Ct));
    }

    [SkippableFact]
    public async Task A_duplicate_response_id_is_a_conflict_and_writes_nothing()
    {
        var store = await StartAsync();
        var response = Response();
        await store.CreateResponseAsync(response, Items(1), null, Ct);
        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateResponseAsync(response with { Json = "{}" }, Items(2), null, Ct));
        Assert.Equal(response.Json, (await store.GetResponseAsync(response.Id, Ct))!.Json);
        Assert.Single((await store.ListInputItemsAsync(response.Id, new ItemQuery(), Ct))!.Items);
    }

    [SkippableFact]
    public async Task Input_items_page_in_both_orders_with_after_and_before()
    {
        var store = await StartAsync();
        var response = Response();
        var items = Items(7);
        await store.CreateResponseAsync(response, items, null, Ct);

        // Default order is newest first.
        var first = await store.ListInputItemsAsync(response.Id, new ItemQuery { Limit = 3 }, Ct);
        Assert.Equal([items[6], items[5], items[4]], first!.Items);
        Assert.True(first.HasMore);
        var second = await store.ListInputItemsAsync(response.Id, new ItemQuery { Limit = 3, After = first.Items[^1].Id }, Ct);
        Assert.Equal([items[3], items[2], items[1]], second!.Items);
        Assert.True(second.HasMore);
        var third = await store.ListInputItemsAsync(response.Id, new ItemQuery { Limit = 3, After = second.Items[^1].Id }, Ct);
        Assert.Equal([items[0]], third!.Items);
        Assert.False(third.HasMore);

        var ascending = await store.ListInputItemsAsync(response.Id, new ItemQuery { Limit = 100, Descending = false, After = items[1].Id, Before = items[5].Id }, Ct);
        Assert.Equal(items[2..5], ascending!.Items);
        Assert.False(ascending.HasMore);
        var descendingBefore = await store.ListInputItemsAsync(response.Id, new ItemQuery { Limit = 2, Before = items[2].Id }, Ct);
        Assert.Equal([items[6], items[5]], descendingBefore!.Items);
        Assert.True(descendingBefore.HasMore);
    }

    [SkippableFact]
    public async Task A_chain_of_fifty_comes_back_oldest_first_with_every_input()
    {
        var store = await StartAsync();
        string? previous = null;
        var expected = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            var response = Response(previous);
            await store.CreateResponseAsync(response, [Item("turn " + i)], null, Ct);
            expected.Add(response.Id);
            previous = response.Id;
        }

        var chain = await store.GetChainAsync(previous!, 1000, Ct);
        Assert.Null(chain.MissingId);
        Assert.False(chain.Truncated);
        Assert.Equal(expected, chain.Links.Select(l => l.Response.Id));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $$"""{"type":"message","text":"turn {{i}}"}"""), chain.Links.Select(l => l.InputItems.Single().Json));

        var shallow = await store.GetChainAsync(previous!, 10, Ct);
        Assert.True(shallow.Truncated);
        Assert.Equal(expected[40..], shallow.Links.Select(l => l.Response.Id));
    }

    [SkippableFact]
    public async Task A_chain_with_a_deleted_link_names_the_missing_response()
    {
        var store = await StartAsync();
        var first = Response();
        var second = Response(first.Id);
        var third = Response(second.Id);
        foreach (var response in new[] { first, second, third })
        {
            await store.CreateResponseAsync(response, Items(2), null, Ct);
        }

        Assert.True(await store.DeleteResponseAsync(second.Id, Ct));
        Assert.False(await store.DeleteResponseAsync(second.Id, Ct));
        var chain = await store.GetChainAsync(third.Id, 100, Ct);
        Assert.Equal(second.Id, chain.MissingId);
        Assert.Equal([third.Id], chain.Links.Select(l => l.Response.Id));
        Assert.Null(await store.ListInputItemsAsync(second.Id, new ItemQuery(), Ct));
    }

    [SkippableFact]
    public async Task Final_statuses_are_final_and_a_cancel_wins_over_a_late_completion()
    {
        var store = await StartAsync();
        var response = Response(status: ResponseStatuses.Queued, owner: "a", lease: 5);
        await store.CreateResponseAsync(response, Items(1), null, Ct);
        Assert.True(await store.TryUpdateResponseAsync(response with { Status = ResponseStatuses.InProgress, Json = "{\"s\":1}" }, null, Ct));
        Assert.True(await store.TryUpdateResponseAsync(response with { Status = ResponseStatuses.Cancelled, Json = "{\"s\":2}", Owner = null, LeaseExpiresAt = null }, null, Ct));
        Assert.False(await store.TryUpdateResponseAsync(response with { Status = ResponseStatuses.Completed, Json = "{\"s\":3}" }, null, Ct));
        var stored = await store.GetResponseAsync(response.Id, Ct);
        Assert.Equal(ResponseStatuses.Cancelled, stored!.Status);
        Assert.Equal("{\"s\":2}", stored.Json);
        Assert.False(await store.TryUpdateResponseAsync(Response(status: ResponseStatuses.Completed), null, Ct));
    }

    [SkippableFact]
    public async Task Abandoned_responses_are_this_owners_and_those_with_ended_leases()
    {
        var store = await StartAsync();
        var mine = Response(status: ResponseStatuses.InProgress, owner: "me", lease: 10_000);
        var othersLive = Response(status: ResponseStatuses.InProgress, owner: "other", lease: 10_000);
        var othersDead = Response(status: ResponseStatuses.Queued, owner: "other", lease: 500);
        var finished = Response(status: ResponseStatuses.Completed, owner: "me", lease: 10);
        foreach (var response in new[] { mine, othersLive, othersDead, finished })
        {
            await store.CreateResponseAsync(response, [], null, Ct);
        }

        var abandoned = await store.ListAbandonedAsync("me", 1_000, Ct);
        Assert.Equal(new[] { mine.Id, othersDead.Id }.Order(StringComparer.Ordinal), abandoned.Select(r => r.Id).Order(StringComparer.Ordinal));

        Assert.True(await store.RenewLeaseAsync(othersDead.Id, "other", 20_000, Ct));
        Assert.False(await store.RenewLeaseAsync(othersDead.Id, "me", 20_000, Ct));
        Assert.False(await store.RenewLeaseAsync(finished.Id, "me", 20_000, Ct));
        Assert.Equal([mine.Id], (await store.ListAbandonedAsync("me", 1_000, Ct)).Select(r => r.Id));
    }

    [SkippableFact]
    public async Task Events_are_replayed_after_a_sequence_number()
    {
        var store = await StartAsync();
        var response = Response(status: ResponseStatuses.InProgress);
        await store.CreateResponseAsync(response, [], null, Ct);
        await store.AppendEventsAsync(response.Id, [new StoredEvent(0, "{\"n\":0}"), new StoredEvent(1, "{\"n\":1}")], Ct);
        await store.AppendEventsAsync(response.Id, [new StoredEvent(2, "{\"n\":2}")], Ct);
        Assert.Equal([0L, 1, 2], (await store.GetEventsAsync(response.Id, -1, Ct)).Select(e => e.Sequence));
        Assert.Equal(["{\"n\":2}"], (await store.GetEventsAsync(response.Id, 1, Ct)).Select(e => e.Json));
        await store.DeleteResponseAsync(response.Id, Ct);
        Assert.Empty(await store.GetEventsAsync(response.Id, -1, Ct));
    }

    [SkippableFact]
    public async Task Expiry_deletes_old_finished_responses_only()
    {
        var store = await StartAsync();
        var old = Response(created: 100);
        var oldRunning = Response(status: ResponseStatuses.InProgress, created: 100);
        var recent = Response(created: 300);
        foreach (var response in new[] { old, oldRunning, recent })
        {
            await store.CreateResponseAsync(response, Items(2), null, Ct);
        }

        Assert.Equal(1, await store.DeleteExpiredAsync(200, Ct));
        Assert.Null(await store.GetResponseAsync(old.Id, Ct));
        Assert.Null(await store.ListInputItemsAsync(old.Id, new ItemQuery(), Ct));
        Assert.NotNull(await store.GetResponseAsync(oldRunning.Id, Ct));
        Assert.NotNull(await store.GetResponseAsync(recent.Id, Ct));
    }

    [SkippableFact]
    public async Task Conversations_keep_items_in_order_and_responses_append_atomically()
    {
        var store = await StartAsync();
        var conversation = new StoredConversation { Id = StoreIds.NewConversationId(), CreatedAt = 42, MetadataJson = "{\"topic\":\"天气\"}" };
        var initial = Items(2);
        await store.CreateConversationAsync(conversation, initial, Ct);
        Assert.Equal(conversation, await store.GetConversationAsync(conversation.Id, Ct));
        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateConversationAsync(conversation, [], Ct));

        var added = Items(2);
        Assert.True(await store.AppendConversationItemsAsync(conversation.Id, added, Ct));
        var response = Response(conversation: conversation.Id);
        var turn = Items(2);
        await store.CreateResponseAsync(response, [turn[0]], turn, Ct);

        var all = await store.GetConversationItemsAsync(conversation.Id, Ct);
        Assert.Equal([.. initial, .. added, .. turn], all);
        var page = await store.ListConversationItemsAsync(conversation.Id, new ItemQuery { Limit = 4, Descending = false, After = initial[0].Id }, Ct);
        Assert.Equal([initial[1], added[0], added[1], turn[0]], page!.Items);
        Assert.True(page.HasMore);

        Assert.Equal(added[1], await store.GetConversationItemAsync(conversation.Id, added[1].Id, Ct));
        Assert.True(await store.DeleteConversationItemAsync(conversation.Id, added[1].Id, Ct));
        Assert.False(await store.DeleteConversationItemAsync(conversation.Id, added[1].Id, Ct));
        Assert.Null(await store.GetConversationItemAsync(conversation.Id, added[1].Id, Ct));
        Assert.Equal(5, (await store.GetConversationItemsAsync(conversation.Id, Ct))!.Count);

        var updated = await store.UpdateConversationAsync(conversation.Id, "{}", Ct);
        Assert.Equal("{}", updated!.MetadataJson);
        Assert.True(await store.DeleteConversationAsync(conversation.Id, Ct));
        Assert.Null(await store.GetConversationAsync(conversation.Id, Ct));
        Assert.Null(await store.GetConversationItemsAsync(conversation.Id, Ct));
        Assert.Null(await store.ListConversationItemsAsync(conversation.Id, new ItemQuery(), Ct));
        Assert.False(await store.AppendConversationItemsAsync(conversation.Id, Items(1), Ct));
        Assert.Null(await store.UpdateConversationAsync(conversation.Id, "{}", Ct));
    }

    [SkippableFact]
    public async Task A_response_for_a_missing_conversation_writes_nothing()
    {
        var store = await StartAsync();
        var response = Response(conversation: StoreIds.NewConversationId());
        await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateResponseAsync(response, Items(1), Items(2), Ct));
        Assert.Null(await store.GetResponseAsync(response.Id, Ct));
    }

    [SkippableFact]
    public async Task Concurrent_appends_to_one_conversation_all_land_without_collisions()
    {
        var store = await StartAsync();
        var conversation = new StoredConversation { Id = StoreIds.NewConversationId(), CreatedAt = 1, MetadataJson = "{}" };
        await store.CreateConversationAsync(conversation, [], Ct);
        var batches = Enumerable.Range(0, 8).Select(_ => Items(3)).ToList();
        await Task.WhenAll(batches.Select(b => Task.Run(() => store.AppendConversationItemsAsync(conversation.Id, b, Ct), Ct)));
        var all = await store.GetConversationItemsAsync(conversation.Id, Ct);
        Assert.Equal(24, all!.Count);

        // Each batch stays contiguous: an append is one transaction.
        foreach (var batch in batches)
        {
            var start = all.ToList().IndexOf(batch[0]);
            Assert.Equal(batch, all.Skip(start).Take(3));
        }
    }

    [SkippableFact]
    public async Task Everything_survives_reopening_and_initializing_again()
    {
        var store = await StartAsync();
        var response = Response();
        await store.CreateResponseAsync(response, Items(2), null, Ct);
        var conversation = new StoredConversation { Id = StoreIds.NewConversationId(), CreatedAt = 1, MetadataJson = "{}" };
        await store.CreateConversationAsync(conversation, Items(1), Ct);

        await using var reopened = await ReopenAsync();
        await reopened.InitializeAsync(Ct);
        await reopened.InitializeAsync(Ct);
        Assert.Equal(response, await reopened.GetResponseAsync(response.Id, Ct));
        Assert.Single((await reopened.GetConversationItemsAsync(conversation.Id, Ct))!);
    }

    [SkippableFact]
    public async Task Servers_starting_together_migrate_once()
    {
        await StartAsync();
        var others = new List<IResponseStore>();
        for (var i = 0; i < 4; i++)
        {
            others.Add(await ReopenAsync());
        }

        try
        {
            await Task.WhenAll(others.Select(o => Task.Run(() => o.InitializeAsync(Ct), Ct)));
            var response = Response();
            await others[0].CreateResponseAsync(response, [], null, Ct);
            Assert.NotNull(await others[3].GetResponseAsync(response.Id, Ct));
        }
        finally
        {
            foreach (var other in others)
            {
                await other.DisposeAsync();
            }
        }
    }
}
