using System.Data.Common;
using System.Globalization;
using System.Text;
using Capa.Storage.Files;

namespace Capa.Storage.Sql;

/// <summary>The <see cref="IFileStore"/> half of the store: one row per file in <c>files</c>.</summary>
internal abstract partial class SqlResponseStore : IFileStore
{
    private const string FileColumns = "id, sort_key, created_at, expires_at, bytes, filename, purpose, sha256";

    public async Task CreateFileAsync(StoredFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var insert = Command(connection, null,
            $"INSERT INTO files ({FileColumns}) VALUES (@id, @sort, @created, @expires, @bytes, @name, @purpose, @sha)",
            ("id", file.Id), ("sort", file.OrderKey ?? file.CreatedAt * 1000), ("created", file.CreatedAt), ("expires", file.ExpiresAt),
            ("bytes", file.Bytes), ("name", file.Filename), ("purpose", file.Purpose), ("sha", file.Sha256));
        try
        {
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new StoreConflictException($"A file with id '{file.Id}' exists.", e);
        }
    }

    public async Task<StoredFile?> GetFileAsync(string fileId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await GetFileAsync(connection, null, fileId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<FilePage> ListFilesAsync(FileQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 10_000);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sql = new StringBuilder($"SELECT {FileColumns} FROM files WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        if (query.Purpose is not null)
        {
            sql.Append(" AND purpose = @purpose");
            parameters.Add(("purpose", query.Purpose));
        }

        if (query.Now is { } now)
        {
            sql.Append(" AND (expires_at IS NULL OR expires_at > @now)");
            parameters.Add(("now", now));
        }

        if (query.After is not null)
        {
            await using var cursor = Command(connection, null, "SELECT sort_key FROM files WHERE id = @id", ("id", query.After));
            var key = await cursor.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (key is null or DBNull)
            {
                return new FilePage([], false);
            }

            sql.Append(query.Descending
                ? " AND (sort_key < @key OR (sort_key = @key AND id < @after))"
                : " AND (sort_key > @key OR (sort_key = @key AND id > @after))");
            parameters.Add(("key", Convert.ToInt64(key, CultureInfo.InvariantCulture)));
            parameters.Add(("after", query.After));
        }

        sql.Append(query.Descending ? " ORDER BY sort_key DESC, id DESC" : " ORDER BY sort_key ASC, id ASC");
        sql.Append(CultureInfo.InvariantCulture, $" LIMIT {limit + 1}");
        await using var select = Command(connection, null, sql.ToString(), [.. parameters]);
        var files = new List<StoredFile>(Math.Min(limit + 1, 1024));
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                files.Add(ReadFile(reader));
            }
        }

        var hasMore = files.Count > limit;
        if (hasMore)
        {
            files.RemoveAt(files.Count - 1);
        }

        return new FilePage(files, hasMore);
    }

    public async Task<StoredFile?> DeleteFileAsync(string fileId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var file = await GetFileAsync(connection, transaction, fileId, cancellationToken).ConfigureAwait(false);
        if (file is null)
        {
            return null;
        }

        await using (var delete = Command(connection, transaction, "DELETE FROM files WHERE id = @id", ("id", fileId)))
        {
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await RemoveFileEverywhereAsync(connection, transaction, fileId, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return file;
    }

    public async Task<bool> IsContentReferencedAsync(string sha256, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT 1 FROM files WHERE sha256 = @sha LIMIT 1", ("sha", sha256));
        var result = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is not null and not DBNull;
    }

    public async Task<IReadOnlySet<string>> ListReferencedContentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null, "SELECT DISTINCT sha256 FROM files");
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            set.Add(reader.GetString(0));
        }

        return set;
    }

    public async Task<IReadOnlyList<StoredFile>> ListExpiredFilesAsync(long now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var select = Command(connection, null,
            string.Create(CultureInfo.InvariantCulture, $"SELECT {FileColumns} FROM files WHERE expires_at IS NOT NULL AND expires_at <= @now ORDER BY expires_at LIMIT {Math.Clamp(limit, 1, 10_000)}"),
            ("now", now));
        var files = new List<StoredFile>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            files.Add(ReadFile(reader));
        }

        return files;
    }

    private static async Task<StoredFile?> GetFileAsync(DbConnection connection, DbTransaction? transaction, string fileId, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, $"SELECT {FileColumns} FROM files WHERE id = @id", ("id", fileId));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadFile(reader) : null;
    }

    private static StoredFile ReadFile(DbDataReader reader) => new()
    {
        Id = reader.GetString(0),
        OrderKey = reader.GetInt64(1),
        CreatedAt = reader.GetInt64(2),
        ExpiresAt = reader.IsDBNull(3) ? null : reader.GetInt64(3),
        Bytes = reader.GetInt64(4),
        Filename = reader.GetString(5),
        Purpose = reader.GetString(6),
        Sha256 = reader.GetString(7),
    };
}
