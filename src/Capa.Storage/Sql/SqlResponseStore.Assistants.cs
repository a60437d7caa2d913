using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Capa.Storage.Sql;

/// <summary>The Assistants API's objects (<see cref="IAssistantStore"/>) in the same database as responses.</summary>
internal abstract partial class SqlResponseStore
{
    private const string ObjectColumns = "id, kind, parent_id, created_at, status, owner, lease_expires_at, json";

    public IAssistantStore Assistants => this;

    public async Task<bool> WriteAsync(AssistantWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (write.Guard is { } guard)
        {
            // The guard is the first write, so on SQLite the transaction takes the write lock before it reads anything.
            var statuses = new StringBuilder();
            var parameters = new List<(string, object?)>
            {
                ("status", guard.Status), ("owner", guard.Owner), ("lease", guard.LeaseExpiresAt), ("json", guard.Json), ("id", guard.Id), ("kind", guard.Kind),
            };
            for (var i = 0; i < write.GuardStatuses.Count; i++)
            {
                statuses.Append(i == 0 ? "@s0" : string.Create(CultureInfo.InvariantCulture, $", @s{i}"));
                parameters.Add((string.Create(CultureInfo.InvariantCulture, $"s{i}"), write.GuardStatuses[i]));
            }

            var condition = write.GuardStatuses.Count == 0 ? string.Empty : $" AND status IN ({statuses})";
            if (write.GuardJson is not null)
            {
                condition += " AND json = @expected";
                parameters.Add(("expected", write.GuardJson));
            }

            await using var update = Command(connection, transaction,
                $"UPDATE assistant_objects SET status = @status, owner = @owner, lease_expires_at = @lease, json = @json WHERE id = @id AND kind = @kind{condition}",
                [.. parameters]);
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }
        }

        foreach (var item in write.Objects)
        {
            await UpsertAsync(connection, transaction, item, cancellationToken).ConfigureAwait(false);
        }

        if (write.Events.Count > 0)
        {
            var runId = write.EventsRunId ?? throw new ArgumentException("Events need the run they belong to.", nameof(write));

            // Numbered here, after the guard took the run's row (PostgreSQL) or the database's write lock (SQLite), so
            // two writers of one run (its executor and a cancel) never pick the same number.
            long next;
            await using (var last = Command(connection, transaction, "SELECT MAX(sequence) FROM assistant_run_events WHERE run_id = @r", ("r", runId)))
            {
                var result = await last.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                next = result is null or DBNull ? 0 : Convert.ToInt64(result, CultureInfo.InvariantCulture) + 1;
            }

            foreach (var item in write.Events)
            {
                await using var insert = Command(connection, transaction, "INSERT INTO assistant_run_events (run_id, sequence, json) VALUES (@r, @s, @json)",
                    ("r", runId), ("s", next++), ("json", item.Json));
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task UpsertAsync(DbConnection connection, DbTransaction transaction, StoredAssistantObject item, CancellationToken cancellationToken)
    {
        await using (var update = Command(connection, transaction,
            "UPDATE assistant_objects SET status = @status, owner = @owner, lease_expires_at = @lease, json = @json WHERE id = @id AND kind = @kind",
            ("status", item.Status), ("owner", item.Owner), ("lease", item.LeaseExpiresAt), ("json", item.Json), ("id", item.Id), ("kind", item.Kind)))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0)
            {
                return;
            }
        }

        long position;
        await using (var reserve = Command(connection, transaction, "UPDATE assistant_positions SET next_position = next_position + 1 RETURNING next_position"))
        {
            position = Convert.ToInt64(await reserve.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }

        try
        {
            await using var insert = Command(connection, transaction,
                "INSERT INTO assistant_objects (id, kind, parent_id, position, created_at, status, owner, lease_expires_at, json) VALUES (@id, @kind, @parent, @position, @created, @status, @owner, @lease, @json)",
                ("id", item.Id), ("kind", item.Kind), ("parent", item.ParentId), ("position", position), ("created", item.CreatedAt),
                ("status", item.Status), ("owner", item.Owner), ("lease", item.LeaseExpiresAt), ("json", item.Json));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException($"An object with id '{item.Id}' exists with another kind.", e);
        }
    }

    public async Task<StoredAssistantObject?> GetObjectAsync(string kind, string id, string? parentId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = $"SELECT {ObjectColumns} FROM assistant_objects WHERE id = @id AND kind = @kind" + (parentId is null ? string.Empty : " AND parent_id = @parent");
        await using var select = parentId is null
            ? Command(connection, null, sql, ("id", id), ("kind", kind))
            : Command(connection, null, sql, ("id", id), ("kind", kind), ("parent", parentId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadObject(reader) : null;
    }

    public async Task<bool> DeleteObjectAsync(string kind, string id, string? parentId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var sql = "DELETE FROM assistant_objects WHERE id = @id AND kind = @kind" + (parentId is null ? string.Empty : " AND parent_id = @parent");
        int deleted;
        await using (var delete = parentId is null
            ? Command(connection, transaction, sql, ("id", id), ("kind", kind))
            : Command(connection, transaction, sql, ("id", id), ("kind", kind), ("parent", parentId)))
        {
            deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (deleted == 0)
        {
            return false;
        }

        // Children: a thread's messages and runs, and below the runs their steps and events.
        const string Runs = "SELECT id FROM assistant_objects WHERE parent_id = @id AND kind = 'run'";
        foreach (var statement in (string[])[
            $"DELETE FROM assistant_run_events WHERE run_id = @id OR run_id IN ({Runs})",
            $"DELETE FROM assistant_objects WHERE parent_id IN ({Runs})",
            "DELETE FROM assistant_objects WHERE parent_id = @id"])
        {
            await using var children = Command(connection, transaction, statement, ("id", id));
            await children.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<ItemPage> ListObjectsAsync(string kind, string? parentId, ItemQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 100);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var scope = parentId is null ? "kind = @kind AND parent_id IS NULL" : "kind = @kind AND parent_id = @parent";
        var parameters = new List<(string, object?)> { ("kind", kind) };
        if (parentId is not null)
        {
            parameters.Add(("parent", parentId));
        }

        var sql = new StringBuilder($"SELECT id, json FROM assistant_objects WHERE {scope}");
        foreach (var (cursor, name, after) in new[] { (query.After, "after", true), (query.Before, "before", false) })
        {
            if (cursor is null)
            {
                continue;
            }

            await using var find = Command(connection, transaction, $"SELECT position FROM assistant_objects WHERE {scope} AND id = @id", [.. parameters, ("id", cursor)]);
            var found = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (found is null or DBNull)
            {
                return new ItemPage([], false);
            }

            sql.Append(CultureInfo.InvariantCulture, $" AND position {(after == query.Descending ? "<" : ">")} @{name}");
            parameters.Add((name, Convert.ToInt64(found, CultureInfo.InvariantCulture)));
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

    public async Task<IReadOnlyList<StoredAssistantObject>> GetChildrenAsync(string kind, string parentId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, $"SELECT {ObjectColumns} FROM assistant_objects WHERE kind = @kind AND parent_id = @parent ORDER BY position",
            ("kind", kind), ("parent", parentId));
        return await ReadObjectsAsync(select, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<StoredAssistantObject>> ListAbandonedRunsAsync(string owner, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            $"SELECT {ObjectColumns} FROM assistant_objects WHERE kind = 'run' AND status IN ('queued', 'in_progress', 'cancelling') "
            + "AND (owner = @owner OR owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < @now) ORDER BY position",
            ("owner", owner), ("now", now));
        return await ReadObjectsAsync(select, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RenewRunLeaseAsync(string runId, string owner, long leaseExpiresAt, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var update = Command(connection, null,
            "UPDATE assistant_objects SET lease_expires_at = @lease WHERE id = @id AND kind = 'run' AND owner = @owner AND status IN ('queued', 'in_progress', 'cancelling')",
            ("lease", leaseExpiresAt), ("id", runId), ("owner", owner));
        return await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<StoredEvent>> GetRunEventsAsync(string runId, long afterSequence, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT sequence, json FROM assistant_run_events WHERE run_id = @r AND sequence > @after ORDER BY sequence",
            ("r", runId), ("after", afterSequence));
        var list = new List<StoredEvent>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new StoredEvent(reader.GetInt64(0), reader.GetString(1)));
        }

        return list;
    }

    public async Task<long> GetLastRunEventSequenceAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT MAX(sequence) FROM assistant_run_events WHERE run_id = @r", ("r", runId));
        var result = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null or DBNull ? -1 : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private static async Task<List<StoredAssistantObject>> ReadObjectsAsync(DbCommand select, CancellationToken cancellationToken)
    {
        var list = new List<StoredAssistantObject>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(ReadObject(reader));
        }

        return list;
    }

    private static StoredAssistantObject ReadObject(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Kind = reader.GetString(1),
        ParentId = reader.IsDBNull(2) ? null : reader.GetString(2),
        CreatedAt = reader.GetInt64(3),
        Status = reader.IsDBNull(4) ? null : reader.GetString(4),
        Owner = reader.IsDBNull(5) ? null : reader.GetString(5),
        LeaseExpiresAt = reader.IsDBNull(6) ? null : reader.GetInt64(6),
        Json = reader.GetString(7),
    };
}
