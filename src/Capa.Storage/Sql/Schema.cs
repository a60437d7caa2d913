namespace Capa.Storage.Sql;

/// <summary>
/// The schema as a list of migrations, each a list of statements in the SQL that SQLite and PostgreSQL share. Version
/// N is migration N (from 1); a database records the last one applied in <c>capa_schema_version</c>. Never edit a
/// released migration: append one.
/// </summary>
internal static class Schema
{
    public const string VersionTable = "capa_schema_version";

    public static readonly IReadOnlyList<IReadOnlyList<string>> Migrations =
    [
        [
            """
            CREATE TABLE responses (
                id TEXT PRIMARY KEY,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                previous_response_id TEXT NULL,
                conversation_id TEXT NULL,
                owner TEXT NULL,
                lease_expires_at BIGINT NULL,
                json TEXT NOT NULL)
            """,
            "CREATE INDEX responses_unfinished ON responses (status) WHERE status IN ('queued', 'in_progress')",
            "CREATE INDEX responses_created_at ON responses (created_at)",
            """
            CREATE TABLE response_input_items (
                response_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                item_id TEXT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (response_id, position))
            """,
            "CREATE INDEX response_input_items_id ON response_input_items (response_id, item_id)",
            """
            CREATE TABLE response_events (
                response_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (response_id, sequence))
            """,
            """
            CREATE TABLE conversations (
                id TEXT PRIMARY KEY,
                created_at BIGINT NOT NULL,
                metadata TEXT NOT NULL,
                next_position BIGINT NOT NULL)
            """,
            """
            CREATE TABLE conversation_items (
                conversation_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                item_id TEXT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (conversation_id, position))
            """,
            "CREATE INDEX conversation_items_id ON conversation_items (conversation_id, item_id)",
        ],
        [
            // Assistants API v2: every object in one table, ordered by a store-wide counter (ids are random).
            """
            CREATE TABLE assistant_objects (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                parent_id TEXT NULL,
                position BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NULL,
                owner TEXT NULL,
                lease_expires_at BIGINT NULL,
                json TEXT NOT NULL)
            """,
            "CREATE INDEX assistant_objects_list ON assistant_objects (kind, parent_id, position)",
            "CREATE INDEX assistant_objects_parent ON assistant_objects (parent_id)",
            "CREATE INDEX assistant_objects_executing ON assistant_objects (status) WHERE kind = 'run' AND status IN ('queued', 'in_progress', 'cancelling')",
            """
            CREATE TABLE assistant_run_events (
                run_id TEXT NOT NULL,
                sequence BIGINT NOT NULL,
                json TEXT NOT NULL,
                PRIMARY KEY (run_id, sequence))
            """,
            "CREATE TABLE assistant_positions (next_position BIGINT NOT NULL)",
            "INSERT INTO assistant_positions (next_position) VALUES (0)",
        ],
    ];
}
