using Microsoft.EntityFrameworkCore.Migrations;

namespace Rehome.Server.Store;

/// <summary>
/// The index behind the mapping list's text search (<see cref="Mappings.MappingQuery"/>), which EF Core cannot
/// model: a trigram index over the four searched columns (source device, destination name, primary user,
/// destination user), so that a substring is found without reading every mapping of the project. It lives in a
/// table of its own, kept by triggers that fire only when a searched column changes: the per-run summary writes
/// to the mappings table (status, stage, progress) never touch it.
/// </summary>
public static class MappingSearchSchema
{
    /// <summary>
    /// SQLite: an FTS5 table with the trigram tokenizer (case-insensitive, substring matching for 3 characters and
    /// more), external content over the mappings table by rowid. <c>INSERT INTO mapping_search(mapping_search)
    /// VALUES('rebuild')</c> rebuilds it from the mappings table.
    /// </summary>
    public static void CreateSqlite(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        const string columns = "source_device_key, destination_name, primary_user, destination_user";
        migrationBuilder.Sql($"CREATE VIRTUAL TABLE mapping_search USING fts5({columns}, content='mappings', tokenize='trigram');");
        migrationBuilder.Sql($"""
            CREATE TRIGGER mapping_search_insert AFTER INSERT ON mappings BEGIN
                INSERT INTO mapping_search(rowid, {columns}) VALUES (new.rowid, new.source_device_key, new.destination_name, new.primary_user, new.destination_user);
            END;
            """);
        migrationBuilder.Sql($"""
            CREATE TRIGGER mapping_search_delete AFTER DELETE ON mappings BEGIN
                INSERT INTO mapping_search(mapping_search, rowid, {columns}) VALUES ('delete', old.rowid, old.source_device_key, old.destination_name, old.primary_user, old.destination_user);
            END;
            """);
        migrationBuilder.Sql($"""
            CREATE TRIGGER mapping_search_update AFTER UPDATE OF {columns} ON mappings BEGIN
                INSERT INTO mapping_search(mapping_search, rowid, {columns}) VALUES ('delete', old.rowid, old.source_device_key, old.destination_name, old.primary_user, old.destination_user);
                INSERT INTO mapping_search(rowid, {columns}) VALUES (new.rowid, new.source_device_key, new.destination_name, new.primary_user, new.destination_user);
            END;
            """);
        migrationBuilder.Sql("INSERT INTO mapping_search(mapping_search) VALUES ('rebuild');");
        // Without statistics SQLite takes "project_id = ?" for ten rows, and so reads a project's mappings in the
        // sort's order looking for the few a search found, instead of reading those few: 0.5 s at 1,000,000 mappings
        // against a few milliseconds. These say what the store holds: large projects, devices unique, few statuses.
        // An ANALYZE replaces them with the measured ones, which say the same.
        migrationBuilder.Sql("PRAGMA analysis_limit = 100;");
        migrationBuilder.Sql("ANALYZE mappings;");
        migrationBuilder.Sql("DELETE FROM sqlite_stat1 WHERE tbl = 'mappings';");
        migrationBuilder.Sql("""
            INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
                ('mappings', NULL, '1000000'),
                ('mappings', 'ix_mappings_project_id_source_device_key', '1000000 50000 1'),
                ('mappings', 'ix_mappings_project_id_status_source_device_key', '1000000 50000 5000 1'),
                ('mappings', 'ix_mappings_project_id_stage_source_device_key', '1000000 50000 10000 1'),
                ('mappings', 'ix_mappings_project_id_destination_name_source_device_key', '1000000 50000 1 1'),
                ('mappings', 'ix_mappings_project_id_readiness', '1000000 50000 15000'),
                ('mappings', 'ix_mappings_source_device_key', '1000000 1'),
                ('mappings', 'ix_mappings_last_run_id', '1000000 5000'),
                ('mappings', 'sqlite_autoindex_mappings_1', '1000000 1');
            """);
    }

    public static void DropSqlite(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("DELETE FROM sqlite_stat1 WHERE tbl = 'mappings';");
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS mapping_search_update;");
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS mapping_search_delete;");
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS mapping_search_insert;");
        migrationBuilder.Sql("DROP TABLE IF EXISTS mapping_search;");
    }

    /// <summary>
    /// PostgreSQL: one upper-cased document per mapping (the four columns, one a line: a search holds no line break,
    /// so it never matches across two columns) under a pg_trgm GIN index, which serves <c>LIKE '%…%'</c>.
    /// pg_trgm is a trusted extension: the database's owner may create it (README, "PostgreSQL").
    /// </summary>
    public static void CreatePostgres(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");
        migrationBuilder.Sql("""
            CREATE TABLE mapping_search (
                mapping_id uuid NOT NULL PRIMARY KEY REFERENCES mappings (id) ON DELETE CASCADE,
                document text NOT NULL);
            """);
        migrationBuilder.Sql("CREATE INDEX ix_mapping_search_document ON mapping_search USING gin (document gin_trgm_ops);");
        migrationBuilder.Sql("""
            CREATE FUNCTION mapping_search_write() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO mapping_search (mapping_id, document)
                VALUES (NEW.id, upper(concat_ws(E'\n', NEW.source_device_key, NEW.destination_name, NEW.primary_user, NEW.destination_user)))
                ON CONFLICT (mapping_id) DO UPDATE SET document = EXCLUDED.document;
                RETURN NULL;
            END $$;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER mapping_search_write AFTER INSERT OR UPDATE OF source_device_key, destination_name, primary_user, destination_user
            ON mappings FOR EACH ROW EXECUTE FUNCTION mapping_search_write();
            """);
        migrationBuilder.Sql("""
            INSERT INTO mapping_search (mapping_id, document)
            SELECT id, upper(concat_ws(E'\n', source_device_key, destination_name, primary_user, destination_user)) FROM mappings;
            """);
    }

    public static void DropPostgres(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("DROP TRIGGER IF EXISTS mapping_search_write ON mappings;");
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS mapping_search_write();");
        migrationBuilder.Sql("DROP TABLE IF EXISTS mapping_search;");
    }
}
