namespace Capa.Storage;

/// <summary>Well-known response statuses, as the Responses API names them.</summary>
public static class ResponseStatuses
{
    /// <summary><c>queued</c>: a background response not started yet.</summary>
    public const string Queued = "queued";

    /// <summary><c>in_progress</c>.</summary>
    public const string InProgress = "in_progress";

    /// <summary><c>completed</c>.</summary>
    public const string Completed = "completed";

    /// <summary><c>incomplete</c>: cut by a token limit.</summary>
    public const string Incomplete = "incomplete";

    /// <summary><c>failed</c>.</summary>
    public const string Failed = "failed";

    /// <summary><c>cancelled</c>.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Whether a response with this status may still change.</summary>
    public static bool IsUnfinished(string status) => status is Queued or InProgress;
}

/// <summary>A stored response.</summary>
public sealed record StoredResponse
{
    /// <summary><c>resp_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>One of <see cref="ResponseStatuses"/>; the same as in <see cref="Json"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The response this one continues, or null.</summary>
    public string? PreviousResponseId { get; init; }

    /// <summary>The conversation the response belongs to, or null.</summary>
    public string? ConversationId { get; init; }

    /// <summary>The server instance running an unfinished response, or null.</summary>
    public string? Owner { get; init; }

    /// <summary>Unix time in milliseconds until which <see cref="Owner"/> holds an unfinished response.</summary>
    public long? LeaseExpiresAt { get; init; }

    /// <summary>The response object as the API returns it (UTF-8 JSON text).</summary>
    public required string Json { get; init; }
}

/// <summary>An item (input item, conversation item): its id and its JSON as the API returns it.</summary>
/// <param name="Id">The item id (<c>msg_...</c>, <c>fc_...</c>, ...).</param>
/// <param name="Json">The item object (UTF-8 JSON text).</param>
public sealed record StoredItem(string Id, string Json);

/// <summary>One streamed event of a response.</summary>
/// <param name="Sequence">The event's <c>sequence_number</c>.</param>
/// <param name="Json">The event object (UTF-8 JSON text).</param>
public sealed record StoredEvent(long Sequence, string Json);

/// <summary>A stored conversation.</summary>
public sealed record StoredConversation
{
    /// <summary><c>conv_...</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Unix time in seconds.</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The metadata object (JSON text, <c>{}</c> when empty).</summary>
    public required string MetadataJson { get; init; }
}

/// <summary>One response of a chain with its input items.</summary>
/// <param name="Response">The response.</param>
/// <param name="InputItems">Its input items, in order.</param>
public sealed record ChainLink(StoredResponse Response, IReadOnlyList<StoredItem> InputItems);

/// <summary>A chain of responses, oldest first.</summary>
public sealed record ResponseChain
{
    /// <summary>The responses found, oldest first; the last is the one asked for.</summary>
    public required IReadOnlyList<ChainLink> Links { get; init; }

    /// <summary>The id of a link that no longer exists (deleted or expired), or null when the chain is whole.</summary>
    public string? MissingId { get; init; }

    /// <summary>Whether the chain is longer than the depth asked for.</summary>
    public bool Truncated { get; init; }
}

/// <summary>Paging of an item list, as the list endpoints take it.</summary>
public sealed record ItemQuery
{
    /// <summary>At most this many items (1 to 100).</summary>
    public int Limit { get; init; } = 20;

    /// <summary>Newest first (the API's default <c>desc</c>).</summary>
    public bool Descending { get; init; } = true;

    /// <summary>Start after the item with this id (in the listing's order).</summary>
    public string? After { get; init; }

    /// <summary>Stop before the item with this id (in the listing's order).</summary>
    public string? Before { get; init; }
}

/// <summary>A page of items.</summary>
/// <param name="Items">The items, in the order asked for.</param>
/// <param name="HasMore">Whether more items follow in that order.</param>
public sealed record ItemPage(IReadOnlyList<StoredItem> Items, bool HasMore);

/// <summary>A write that conflicts with what is stored (duplicate id, missing conversation).</summary>
public sealed class StoreConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreConflictException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
