namespace Capa.Storage;

/// <summary>
/// Durable state of the Responses and Conversations APIs: responses with their input items and streamed events, and
/// conversations with their items. JSON documents are stored as the server wrote them; the store only indexes the
/// fields it must query (ids, status, links, positions).
/// </summary>
/// <remarks>
/// <para>Implementations are thread-safe singletons. Every method is atomic: a crash leaves either all of a call's
/// writes or none.</para>
/// <para>Final statuses (<c>completed</c>, <c>incomplete</c>, <c>failed</c>, <c>cancelled</c>) are final:
/// <see cref="TryUpdateResponseAsync"/> changes only responses still <c>queued</c> or <c>in_progress</c>, so a cancel
/// that lands first wins over a late completion.</para>
/// </remarks>
public interface IResponseStore : IAsyncDisposable
{
    /// <summary>The Assistants API's objects, in the same database.</summary>
    IAssistantStore Assistants { get; }

    /// <summary>Creates or upgrades the schema; call once before anything else. Safe to call from several servers at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores a new response with its input items, and appends <paramref name="conversationItems"/> to the response's
    /// conversation in the same transaction.
    /// </summary>
    /// <exception cref="StoreConflictException">A response with that id exists, or the conversation does not.</exception>
    Task CreateResponseAsync(StoredResponse response, IReadOnlyList<StoredItem> inputItems, IReadOnlyList<StoredItem>? conversationItems, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces a response that is still unfinished (status, JSON, lease), appending <paramref name="conversationItems"/>
    /// to its conversation in the same transaction. Returns <see langword="false"/> (and writes nothing) when the
    /// response is gone or already final.
    /// </summary>
    Task<bool> TryUpdateResponseAsync(StoredResponse response, IReadOnlyList<StoredItem>? conversationItems, CancellationToken cancellationToken);

    /// <summary>Extends the lease of an unfinished response that <paramref name="owner"/> runs.</summary>
    Task<bool> RenewLeaseAsync(string responseId, string owner, long leaseExpiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Unfinished responses that nobody runs any more: those <paramref name="owner"/> owned before it restarted, and
    /// those whose lease ended before <paramref name="now"/> (their server died).
    /// </summary>
    Task<IReadOnlyList<StoredResponse>> ListAbandonedAsync(string owner, long now, CancellationToken cancellationToken);

    /// <summary>A response, or <see langword="null"/>.</summary>
    Task<StoredResponse?> GetResponseAsync(string responseId, CancellationToken cancellationToken);

    /// <summary>
    /// The chain that ends with <paramref name="responseId"/>, oldest first, each response with its input items,
    /// following <see cref="StoredResponse.PreviousResponseId"/> at most <paramref name="maxDepth"/> steps.
    /// </summary>
    Task<ResponseChain> GetChainAsync(string responseId, int maxDepth, CancellationToken cancellationToken);

    /// <summary>Deletes a response with its input items and events; <see langword="false"/> when there was none.</summary>
    Task<bool> DeleteResponseAsync(string responseId, CancellationToken cancellationToken);

    /// <summary>A page of a response's input items; <see langword="null"/> when the response does not exist.</summary>
    Task<ItemPage?> ListInputItemsAsync(string responseId, ItemQuery query, CancellationToken cancellationToken);

    /// <summary>Appends streamed events of a response (sequence numbers ascending, not yet stored).</summary>
    Task AppendEventsAsync(string responseId, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken);

    /// <summary>The stored events of a response after <paramref name="afterSequence"/>, in order.</summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsAsync(string responseId, long afterSequence, CancellationToken cancellationToken);

    /// <summary>Deletes finished responses created before <paramref name="createdBefore"/> (Unix seconds); returns how many.</summary>
    Task<int> DeleteExpiredAsync(long createdBefore, CancellationToken cancellationToken);

    /// <summary>Stores a new conversation with its first items.</summary>
    /// <exception cref="StoreConflictException">A conversation with that id exists.</exception>
    Task CreateConversationAsync(StoredConversation conversation, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken);

    /// <summary>A conversation, or <see langword="null"/>.</summary>
    Task<StoredConversation?> GetConversationAsync(string conversationId, CancellationToken cancellationToken);

    /// <summary>Replaces a conversation's metadata; <see langword="null"/> when it does not exist.</summary>
    Task<StoredConversation?> UpdateConversationAsync(string conversationId, string metadataJson, CancellationToken cancellationToken);

    /// <summary>Deletes a conversation and its items; <see langword="false"/> when there was none.</summary>
    Task<bool> DeleteConversationAsync(string conversationId, CancellationToken cancellationToken);

    /// <summary>Appends items to a conversation; <see langword="false"/> when it does not exist.</summary>
    Task<bool> AppendConversationItemsAsync(string conversationId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken);

    /// <summary>A page of a conversation's items; <see langword="null"/> when the conversation does not exist.</summary>
    Task<ItemPage?> ListConversationItemsAsync(string conversationId, ItemQuery query, CancellationToken cancellationToken);

    /// <summary>Every item of a conversation in order (the context of a response), or <see langword="null"/>.</summary>
    Task<IReadOnlyList<StoredItem>?> GetConversationItemsAsync(string conversationId, CancellationToken cancellationToken);

    /// <summary>One item of a conversation, or <see langword="null"/>.</summary>
    Task<StoredItem?> GetConversationItemAsync(string conversationId, string itemId, CancellationToken cancellationToken);

    /// <summary>Deletes one item of a conversation; <see langword="false"/> when there was none.</summary>
    Task<bool> DeleteConversationItemAsync(string conversationId, string itemId, CancellationToken cancellationToken);
}
