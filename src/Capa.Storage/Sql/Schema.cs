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
            // Files: metadata here, bytes in the content-addressed folder. sort_key is the creation time in
            // milliseconds, so files uploaded within one second still list in upload order.
            """
            CREATE TABLE files (
                id TEXT PRIMARY KEY,
                sort_key BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NULL,
                bytes BIGINT NOT NULL,
                filename TEXT NOT NULL,
                purpose TEXT NOT NULL,
                sha256 TEXT NOT NULL)
            """,
            "CREATE INDEX files_order ON files (sort_key, id)",
            "CREATE INDEX files_sha256 ON files (sha256)",
            "CREATE INDEX files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL",
        ],
        [
            // Vector stores. JSON columns hold what is only ever returned (metadata, attributes, chunking, errors);
            // {BLOB} is the dialect's byte type. File counts and usage are computed from the file rows, never stored.
            """
            CREATE TABLE vector_stores (
                id TEXT PRIMARY KEY,
                sort_key BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                name TEXT NULL,
                metadata TEXT NOT NULL,
                expires_after_days BIGINT NULL,
                last_active_at BIGINT NOT NULL,
                embedding_model TEXT NOT NULL)
            """,
            "CREATE INDEX vector_stores_order ON vector_stores (sort_key, id)",
            """
            CREATE TABLE vector_store_files (
                vector_store_id TEXT NOT NULL,
                file_id TEXT NOT NULL,
                sort_key BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                last_error TEXT NULL,
                attributes TEXT NOT NULL,
                chunking TEXT NOT NULL,
                usage_bytes BIGINT NOT NULL,
                batch_id TEXT NULL,
                PRIMARY KEY (vector_store_id, file_id))
            """,
            "CREATE INDEX vector_store_files_order ON vector_store_files (vector_store_id, sort_key, file_id)",
            "CREATE INDEX vector_store_files_pending ON vector_store_files (status) WHERE status = 'in_progress'",
            "CREATE INDEX vector_store_files_file ON vector_store_files (file_id)",
            "CREATE INDEX vector_store_files_batch ON vector_store_files (batch_id) WHERE batch_id IS NOT NULL",
            """
            CREATE TABLE vector_store_file_batches (
                id TEXT PRIMARY KEY,
                vector_store_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                cancelled BIGINT NOT NULL)
            """,
            """
            CREATE TABLE vector_store_chunks (
                vector_store_id TEXT NOT NULL,
                file_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                text TEXT NOT NULL,
                embedding {BLOB} NOT NULL,
                PRIMARY KEY (vector_store_id, file_id, position))
            """,
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
        [
            // The keyword index BM25 reads, kept on insert and delete: one row per term per chunk (a term's document
            // frequency is its row count), each chunk's length in terms (-1: stored before this migration, indexed
            // when the store starts), and per vector store the indexed chunks and their total length.
            """
            CREATE TABLE vector_store_terms (
                vector_store_id TEXT NOT NULL,
                term TEXT NOT NULL,
                file_id TEXT NOT NULL,
                position BIGINT NOT NULL,
                frequency BIGINT NOT NULL,
                chunk_terms BIGINT NOT NULL,
                PRIMARY KEY (vector_store_id, term, file_id, position))
            """,
            "CREATE INDEX vector_store_terms_file ON vector_store_terms (vector_store_id, file_id)",
            "ALTER TABLE vector_store_chunks ADD COLUMN term_count BIGINT NOT NULL DEFAULT -1",
            "CREATE INDEX vector_store_chunks_unindexed ON vector_store_chunks (vector_store_id) WHERE term_count < 0",
            "ALTER TABLE vector_stores ADD COLUMN indexed_chunks BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE vector_stores ADD COLUMN indexed_terms BIGINT NOT NULL DEFAULT 0",
        ],
        [
            // A counter per vector store, raised in every transaction that adds or removes its chunks: a server keeping
            // the store's vectors in memory reads it per search (one row) and reloads when it moved, whichever server
            // sharing the database made the change.
            "ALTER TABLE vector_stores ADD COLUMN chunks_version BIGINT NOT NULL DEFAULT 0",
        ],
    ];
}
