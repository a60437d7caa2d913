using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Capa.Storage.Sql;

/// <summary>
/// The store over ADO.NET, shared by SQLite and PostgreSQL: one schema, one set of statements (the SQL both accept),
/// and a few dialect hooks (opening, the migration lock, constraint errors).
/// </summary>
internal abstract partial class SqlResponseStore : IResponseStore, IAssistantStore
{
    private const string UnfinishedStatuses = "('queued', 'in_progress')";

    protected SqlResponseStore(ResponseStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _vectorBlocks = new VectorStores.VectorBlockCache(Math.Max(0, options.VectorCacheBytes));
    }

    /// <summary>Opens a connection ready for use (per-connection settings applied).</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Whether an exception is a primary-key violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>The column type for bytes (<c>BLOB</c> in SQLite, <c>BYTEA</c> in PostgreSQL).</summary>
    protected abstract string BlobType { get; }

    /// <summary>Runs before migrations (e.g. creating the file, switching the journal mode).</summary>
    protected virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Serializes migrations between servers sharing the database, inside the migration transaction.</summary>
    protected virtual Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>The schema version the database is at (0 before any migration).</summary>
    internal async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await PrepareAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockForMigrationAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"CREATE TABLE IF NOT EXISTS {Schema.VersionTable} (version BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
        var version = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (version > Schema.Migrations.Count)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The state database is at schema version {version}, newer than this server knows ({Schema.Migrations.Count}). Upgrade the server."));
        }

        for (var next = version; next < Schema.Migrations.Count; next++)
        {
            foreach (var statement in Schema.Migrations[next])
            {
                await ExecuteAsync(connection, transaction, statement.Replace("{BLOB}", BlobType, StringComparison.Ordinal), cancellationToken).ConfigureAwait(false);
            }
        }

        if (version < Schema.Migrations.Count)
        {
            await ExecuteAsync(connection, transaction, $"DELETE FROM {Schema.VersionTable}", cancellationToken).ConfigureAwait(false);
            await using var insert = Command(connection, transaction, $"INSERT INTO {Schema.VersionTable} (version) VALUES (@v)", ("v", (long)Schema.Migrations.Count));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        await IndexUnindexedChunksAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task CreateResponseAsync(StoredResponse response, IReadOnlyList<StoredItem> inputItems, IReadOnlyList<StoredItem>? conversationItems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(inputItems);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var insert = Command(connection, transaction,
                "INSERT INTO responses (id, created_at, status, previous_response_id, conversation_id, owner, lease_expires_at, json) VALUES (@id, @created, @status, @prev, @conv, @owner, @lease, @json)",
                ("id", response.Id), ("created", response.CreatedAt), ("status", response.Status), ("prev", response.PreviousResponseId),
                ("conv", response.ConversationId), ("owner", response.Owner), ("lease", response.LeaseExpiresAt), ("json", response.Json)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException($"A response with id '{response.Id}' exists.", e);
        }

        for (var i = 0; i < inputItems.Count; i++)
        {
            await using var item = Command(connection, transaction,
                "INSERT INTO response_input_items (response_id, position, item_id, json) VALUES (@r, @p, @id, @json)",
                ("r", response.Id), ("p", (long)i), ("id", inputItems[i].Id), ("json", inputItems[i].Json));
            await item.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (conversationItems is { Count: > 0 })
        {
            if (response.ConversationId is null
                || !await AppendItemsAsync(connection, transaction, response.ConversationId, conversationItems, cancellationToken).ConfigureAwait(false))
            {
                throw new StoreConflictException($"The conversation '{response.ConversationId}' does not exist.");
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryUpdateResponseAsync(StoredResponse response, IReadOnlyList<StoredItem>? conversationItems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var update = Command(connection, transaction,
            $"UPDATE responses SET status = @status, owner = @owner, lease_expires_at = @lease, json = @json WHERE id = @id AND status IN {UnfinishedStatuses}",
            ("status", response.Status), ("owner", response.Owner), ("lease", response.LeaseExpiresAt), ("json", response.Json), ("id", response.Id)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }
        }

        if (conversationItems is { Count: > 0 } && response.ConversationId is { } conversationId
            && !await AppendItemsAsync(connection, transaction, conversationId, conversationItems, cancellationToken).ConfigureAwait(false))
        {
            // The conversation was deleted while the response ran: the response still finishes.
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> RenewLeaseAsync(string responseId, string owner, long leaseExpiresAt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Command(connection, null,
            $"UPDATE responses SET lease_expires_at = @lease WHERE id = @id AND owner = @owner AND status IN {UnfinishedStatuses}",
            ("lease", leaseExpiresAt), ("id", responseId), ("owner", owner));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<StoredResponse>> ListAbandonedAsync(string owner, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            $"SELECT {ResponseColumns} FROM responses WHERE status IN {UnfinishedStatuses} AND (owner = @owner OR owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now) ORDER BY created_at, id",
            ("owner", owner), ("now", now));
        var list = new List<StoredResponse>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(ReadResponse(reader));
        }

        return list;
    }

    public async Task<StoredResponse?> GetResponseAsync(string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetResponseAsync(connection, responseId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ResponseChain> GetChainAsync(string responseId, int maxDepth, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDepth);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);

        // One snapshot, so that a concurrent delete cannot tear the chain between reads.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var links = new List<ChainLink>();
        string? next = responseId;
        string? missing = null;
        var truncated = false;
        while (next is not null)
        {
            if (links.Count == maxDepth)
            {
                truncated = true;
                break;
            }

            var response = await GetResponseAsync(connection, next, cancellationToken, transaction).ConfigureAwait(false);
            if (response is null)
            {
                missing = next;
                break;
            }

            var items = await ReadItemsAsync(connection, transaction, "SELECT item_id, json FROM response_input_items WHERE response_id = @k ORDER BY position", response.Id, cancellationToken).ConfigureAwait(false);
            links.Add(new ChainLink(response, items));
            next = response.PreviousResponseId;
        }

        links.Reverse();
        return new ResponseChain { Links = links, MissingId = missing, Truncated = truncated };
    }

    public async Task<bool> DeleteResponseAsync(string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var items = Command(connection, transaction, "DELETE FROM response_input_items WHERE response_id = @id", ("id", responseId)))
        {
            await items.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var events = Command(connection, transaction, "DELETE FROM response_events WHERE response_id = @id", ("id", responseId)))
        {
            await events.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int deleted;
        await using (var response = Command(connection, transaction, "DELETE FROM responses WHERE id = @id", ("id", responseId)))
        {
            deleted = await response.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted > 0;
    }

    public async Task<ItemPage?> ListInputItemsAsync(string responseId, ItemQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, transaction, "SELECT 1 FROM responses WHERE id = @id", responseId, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await PageAsync(connection, transaction, "response_input_items", "response_id", responseId, query, cancellationToken).ConfigureAwait(false);
    }

    public async Task AppendEventsAsync(string responseId, IReadOnlyList<StoredEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var item in events)
        {
            await using var insert = Command(connection, transaction, "INSERT INTO response_events (response_id, sequence, json) VALUES (@r, @s, @json)",
                ("r", responseId), ("s", item.Sequence), ("json", item.Json));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsAsync(string responseId, long afterSequence, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT sequence, json FROM response_events WHERE response_id = @r AND sequence > @after ORDER BY sequence",
            ("r", responseId), ("after", afterSequence));
        var list = new List<StoredEvent>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1)));
        }

        return list;
    }

    public async Task<int> DeleteExpiredAsync(long createdBefore, CancellationToken cancellationToken)
    {
        const string Expired = $"SELECT id FROM responses WHERE created_at < @t AND status NOT IN {UnfinishedStatuses}";
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in (string[])["response_input_items", "response_events"])
        {
            await using var items = Command(connection, transaction, $"DELETE FROM {table} WHERE response_id IN ({Expired})", ("t", createdBefore));
            await items.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int deleted;
        await using (var responses = Command(connection, transaction, $"DELETE FROM responses WHERE id IN ({Expired})", ("t", createdBefore)))
        {
            deleted = await responses.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    public async Task CreateConversationAsync(StoredConversation conversation, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(items);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var insert = Command(connection, transaction,
                "INSERT INTO conversations (id, created_at, metadata, next_position) VALUES (@id, @created, @metadata, 0)",
                ("id", conversation.Id), ("created", conversation.CreatedAt), ("metadata", conversation.MetadataJson));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException($"A conversation with id '{conversation.Id}' exists.", e);
        }

        await AppendItemsAsync(connection, transaction, conversation.Id, items, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredConversation?> GetConversationAsync(string conversationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetConversationAsync(connection, null, conversationId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredConversation?> UpdateConversationAsync(string conversationId, string metadataJson, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var update = Command(connection, transaction, "UPDATE conversations SET metadata = @metadata WHERE id = @id", ("metadata", metadataJson), ("id", conversationId)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }
        }

        var conversation = await GetConversationAsync(connection, transaction, conversationId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return conversation;
    }

    public async Task<bool> DeleteConversationAsync(string conversationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var items = Command(connection, transaction, "DELETE FROM conversation_items WHERE conversation_id = @id", ("id", conversationId)))
        {
            await items.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int deleted;
        await using (var conversation = Command(connection, transaction, "DELETE FROM conversations WHERE id = @id", ("id", conversationId)))
        {
            deleted = await conversation.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted > 0;
    }

    public async Task<bool> AppendConversationItemsAsync(string conversationId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await AppendItemsAsync(connection, transaction, conversationId, items, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<ItemPage?> ListConversationItemsAsync(string conversationId, ItemQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, transaction, "SELECT 1 FROM conversations WHERE id = @id", conversationId, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await PageAsync(connection, transaction, "conversation_items", "conversation_id", conversationId, query, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredItem>?> GetConversationItemsAsync(string conversationId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await ExistsAsync(connection, transaction, "SELECT 1 FROM conversations WHERE id = @id", conversationId, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return await ReadItemsAsync(connection, transaction, "SELECT item_id, json FROM conversation_items WHERE conversation_id = @k ORDER BY position", conversationId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredItem?> GetConversationItemAsync(string conversationId, string itemId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            "SELECT item_id, json FROM conversation_items WHERE conversation_id = @c AND item_id = @id ORDER BY position DESC LIMIT 1",
            ("c", conversationId), ("id", itemId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new StoredItem(reader.GetString(0), reader.GetString(1)) : null;
    }

    public async Task<bool> DeleteConversationItemAsync(string conversationId, string itemId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = Command(connection, null, "DELETE FROM conversation_items WHERE conversation_id = @c AND item_id = @id", ("c", conversationId), ("id", itemId));
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    private const string ResponseColumns = "id, created_at, status, previous_response_id, conversation_id, owner, lease_expires_at, json";

    private static StoredResponse ReadResponse(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        CreatedAt = reader.GetInt64(1),
        Status = reader.GetString(2),
        PreviousResponseId = reader.IsDBNull(3) ? null : reader.GetString(3),
        ConversationId = reader.IsDBNull(4) ? null : reader.GetString(4),
        Owner = reader.IsDBNull(5) ? null : reader.GetString(5),
        LeaseExpiresAt = reader.IsDBNull(6) ? null : reader.GetInt64(6),
        Json = reader.GetString(7),
    };

    private static async Task<StoredResponse?> GetResponseAsync(DbConnection connection, string responseId, CancellationToken cancellationToken, DbTransaction? transaction = null)
    {
        await using var select = Command(connection, transaction, $"SELECT {ResponseColumns} FROM responses WHERE id = @id", ("id", responseId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadResponse(reader) : null;
    }

    private static async Task<StoredConversation?> GetConversationAsync(DbConnection connection, DbTransaction? transaction, string conversationId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, "SELECT id, created_at, metadata FROM conversations WHERE id = @id", ("id", conversationId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new StoredConversation { Id = reader.GetString(0), CreatedAt = reader.GetInt64(1), MetadataJson = reader.GetString(2) }
            : null;
    }

    /// <summary>
    /// Appends items after the conversation's last position. Positions come from a counter on the conversation row,
    /// whose update locks the row: concurrent appends to one conversation queue up instead of colliding.
    /// </summary>
    private static async Task<bool> AppendItemsAsync(DbConnection connection, DbTransaction transaction, string conversationId, IReadOnlyList<StoredItem> items, CancellationToken cancellationToken)
    {
        long end;
        await using (var reserve = Command(connection, transaction,
            "UPDATE conversations SET next_position = next_position + @n WHERE id = @id RETURNING next_position",
            ("n", (long)items.Count), ("id", conversationId)))
        {
            var result = await reserve.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (result is null or DBNull)
            {
                return false;
            }

            end = Convert.ToInt64(result, CultureInfo.InvariantCulture);
        }

        var position = end - items.Count;
        foreach (var item in items)
        {
            await using var insert = Command(connection, transaction,
                "INSERT INTO conversation_items (conversation_id, position, item_id, json) VALUES (@c, @p, @id, @json)",
                ("c", conversationId), ("p", position++), ("id", item.Id), ("json", item.Json));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static async Task<ItemPage> PageAsync(DbConnection connection, DbTransaction transaction, string table, string keyColumn, string key, ItemQuery query, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(query.Limit, 1, 100);
        var sql = new StringBuilder($"SELECT item_id, json FROM {table} WHERE {keyColumn} = @k");
        var parameters = new List<(string, object?)> { ("k", key) };
        if (query.After is not null)
        {
            var position = await FindPositionAsync(connection, transaction, table, keyColumn, key, query.After, cancellationToken).ConfigureAwait(false);
            if (position is null)
            {
                return new ItemPage([], false);
            }

            sql.Append(query.Descending ? " AND position < @after" : " AND position > @after");
            parameters.Add(("after", position.Value));
        }

        if (query.Before is not null)
        {
            var position = await FindPositionAsync(connection, transaction, table, keyColumn, key, query.Before, cancellationToken).ConfigureAwait(false);
            if (position is null)
            {
                return new ItemPage([], false);
            }

            sql.Append(query.Descending ? " AND position > @before" : " AND position < @before");
            parameters.Add(("before", position.Value));
        }

        sql.Append(query.Descending ? " ORDER BY position DESC" : " ORDER BY position ASC");
        sql.Append(CultureInfo.InvariantCulture, $" LIMIT {limit + 1}");
        await using var select = Command(connection, transaction, sql.ToString(), [.. parameters]);
        var items = new List<StoredItem>(limit + 1);
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(new StoredItem(reader.GetString(0), reader.GetString(1)));
            }
        }

        var hasMore = items.Count > limit;
        if (hasMore)
        {
            items.RemoveAt(items.Count - 1);
        }

        return new ItemPage(items, hasMore);
    }

    private static async Task<long?> FindPositionAsync(DbConnection connection, DbTransaction transaction, string table, string keyColumn, string key, string itemId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, $"SELECT position FROM {table} WHERE {keyColumn} = @k AND item_id = @id ORDER BY position LIMIT 1", ("k", key), ("id", itemId));
        var result = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null or DBNull ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private static async Task<List<StoredItem>> ReadItemsAsync(DbConnection connection, DbTransaction? transaction, string sql, string key, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, sql, ("k", key));
        var items = new List<StoredItem>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(new StoredItem(reader.GetString(0), reader.GetString(1)));
        }

        return items;
    }

    private static async Task<bool> ExistsAsync(DbConnection connection, DbTransaction transaction, string sql, string id, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, sql, ("id", id));
        var result = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is not null and not DBNull;
    }

    private static async Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, $"SELECT MAX(version) FROM {Schema.VersionTable}");
        var result = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null or DBNull ? 0 : Convert.ToInt32(result, CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // Statements are constants of this class; values travel as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}
