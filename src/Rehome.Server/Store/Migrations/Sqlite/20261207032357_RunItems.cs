using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RunItems : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "run_items",
                columns: table => new
                {
                    id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    run_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    project_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    mapping_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    kinds = table.Column<int>(type: "INTEGER", nullable: false),
                    scheduled = table.Column<bool>(type: "INTEGER", nullable: false),
                    dry_run = table.Column<bool>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_items", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_run_items_mapping_id",
                table: "run_items",
                column: "mapping_id");

            migrationBuilder.CreateIndex(
                name: "ix_run_items_run_id_mapping_id",
                table: "run_items",
                columns: new[] { "run_id", "mapping_id" });

            // Every read of a job goes through all_jobs: the jobs table and the jobs derived from run items. The SQL is
            // frozen here as this migration made it (CompactJobsSchema generated it): a later change to the jobs
            // table's columns or to the rule drops and creates both views in its own migration.
            migrationBuilder.Sql(DerivedJobsView);
            migrationBuilder.Sql(AllJobsView);
            // Every read of a mapping goes through mapping_states: a run no longer writes its mappings' summaries, which
            // show their newest run item until it becomes rows (CompactJobsSchema generated it; frozen as above).
            migrationBuilder.Sql(MappingStatesView);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The summaries the mappings show through mapping_states are written to them, and the jobs still derived from
            // run items become rows: dropping the items must lose neither.
            migrationBuilder.Sql(WriteShownSummaries);
            migrationBuilder.Sql("DROP VIEW IF EXISTS mapping_states;");
            migrationBuilder.Sql(MaterialiseAllItems);
            migrationBuilder.Sql("DROP VIEW IF EXISTS all_jobs;");
            migrationBuilder.Sql("DROP VIEW IF EXISTS derived_jobs;");
            migrationBuilder.DropTable(
                name: "run_items");
        }

        private const string DerivedJobsView = """
            CREATE VIEW derived_jobs AS SELECT unhex(substr(hex(ri.id), 1, 30) || printf('%02X', k.kind)) AS id, ri.run_id AS run_id, ri.project_id AS project_id, ri.mapping_id AS mapping_id, k.kind AS kind, CASE WHEN ri.scheduled THEN 4 WHEN k.kind IN (2, 3) AND (ri.kinds & 2) <> 0 THEN 3 ELSE 1 END AS status, false AS needs_destination_preparation, CASE WHEN k.kind IN (2, 3) AND (ri.kinds & 2) <> 0 THEN unhex(substr(hex(ri.id), 1, 30) || printf('%02X', 1)) END AS prerequisite_job_id, 0 AS attempts, ri.created_at AS created_at, NULL AS started_at, NULL AS finished_at, ri.created_at AS updated_at, 0 AS items_done, 0 AS items_total, 0 AS items_changed, 0 AS items_failed, NULL AS error_code, NULL AS error_message, false AS stop_requested, NULL AS lease_owner, NULL AS lease_token, NULL AS lease_expires_at, NULL AS agent_id, NULL AS agent_version, NULL AS step, NULL AS message, NULL AS destination_payload_protected, ri.dry_run AS dry_run, NULL AS revert_of, NULL AS reverted_by, NULL AS areas, NULL AS directory_failing_since, NULL AS directory_next_try, NULL AS directory_retry_delay, NULL AS autopilot_import_id, NULL AS autopilot_import_serial, ri.id AS run_item_id
            FROM run_items ri JOIN (SELECT 1 AS kind UNION ALL SELECT 2 AS kind UNION ALL SELECT 3 AS kind UNION ALL SELECT 4 AS kind UNION ALL SELECT 5 AS kind) k ON (ri.kinds & (1 << k.kind)) <> 0;
            """;

        private const string AllJobsView = """
            CREATE VIEW all_jobs AS
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, attempts, created_at, started_at, finished_at, updated_at, items_done, items_total, items_changed, items_failed, error_code, error_message, stop_requested, lease_owner, lease_token, lease_expires_at, agent_id, agent_version, step, message, destination_payload_protected, dry_run, revert_of, reverted_by, areas, directory_failing_since, directory_next_try, directory_retry_delay, autopilot_import_id, autopilot_import_serial FROM jobs
            UNION ALL
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, attempts, created_at, started_at, finished_at, updated_at, items_done, items_total, items_changed, items_failed, error_code, error_message, stop_requested, lease_owner, lease_token, lease_expires_at, agent_id, agent_version, step, message, destination_payload_protected, dry_run, revert_of, reverted_by, areas, directory_failing_since, directory_next_try, directory_retry_delay, autopilot_import_id, autopilot_import_serial FROM derived_jobs;
            """;

        private const string MappingStatesView = """
            CREATE VIEW mapping_states AS
            SELECT m.id AS id, m.project_id AS project_id, m.source_device AS source_device, m.source_device_key AS source_device_key, m.destination_name AS destination_name, m.destination_ou AS destination_ou, m.primary_user AS primary_user, m.destination_user AS destination_user, m.agent_id AS agent_id, CASE WHEN p.id IS NULL THEN m.stage ELSE CASE p.kinds WHEN 2 THEN 1 WHEN 4 THEN 2 WHEN 6 THEN 1 WHEN 8 THEN 3 WHEN 10 THEN 1 WHEN 12 THEN 2 WHEN 14 THEN 1 WHEN 16 THEN 4 WHEN 18 THEN 1 WHEN 20 THEN 2 WHEN 22 THEN 1 WHEN 24 THEN 3 WHEN 26 THEN 1 WHEN 28 THEN 2 WHEN 30 THEN 1 WHEN 32 THEN 5 WHEN 34 THEN 1 WHEN 36 THEN 2 WHEN 38 THEN 1 WHEN 40 THEN 3 WHEN 42 THEN 1 WHEN 44 THEN 2 WHEN 46 THEN 1 WHEN 48 THEN 4 WHEN 50 THEN 1 WHEN 52 THEN 2 WHEN 54 THEN 1 WHEN 56 THEN 3 WHEN 58 THEN 1 WHEN 60 THEN 2 WHEN 62 THEN 1 END END AS stage, CASE WHEN p.id IS NULL THEN m.status ELSE CASE WHEN p.scheduled THEN 4 ELSE 1 END END AS status, CASE WHEN p.id IS NULL THEN m.last_job_id ELSE unhex(substr(hex(p.id), 1, 30) || printf('%02X', CASE p.kinds WHEN 2 THEN 1 WHEN 4 THEN 2 WHEN 6 THEN 1 WHEN 8 THEN 3 WHEN 10 THEN 1 WHEN 12 THEN 2 WHEN 14 THEN 1 WHEN 16 THEN 4 WHEN 18 THEN 1 WHEN 20 THEN 2 WHEN 22 THEN 1 WHEN 24 THEN 3 WHEN 26 THEN 1 WHEN 28 THEN 2 WHEN 30 THEN 1 WHEN 32 THEN 5 WHEN 34 THEN 1 WHEN 36 THEN 2 WHEN 38 THEN 1 WHEN 40 THEN 3 WHEN 42 THEN 1 WHEN 44 THEN 2 WHEN 46 THEN 1 WHEN 48 THEN 4 WHEN 50 THEN 1 WHEN 52 THEN 2 WHEN 54 THEN 1 WHEN 56 THEN 3 WHEN 58 THEN 1 WHEN 60 THEN 2 WHEN 62 THEN 1 END)) END AS last_job_id, CASE WHEN p.id IS NULL THEN m.last_run_id ELSE p.run_id END AS last_run_id, CASE WHEN p.id IS NULL THEN m.items_done ELSE 0 END AS items_done, CASE WHEN p.id IS NULL THEN m.items_total ELSE 0 END AS items_total, m.rejoined_at AS rejoined_at, m.readiness AS readiness, m.readiness_reasons AS readiness_reasons, m.readiness_checked_at AS readiness_checked_at, m.created_at AS created_at, CASE WHEN p.id IS NULL THEN m.updated_at ELSE max(m.updated_at, p.created_at) END AS updated_at
            FROM mappings m LEFT JOIN run_items p ON p.mapping_id = m.id AND NOT p.dry_run
              AND (m.last_run_id IS NULL OR p.run_id > m.last_run_id)
              AND NOT EXISTS (SELECT 1 FROM run_items q WHERE q.mapping_id = m.id AND NOT q.dry_run AND q.run_id > p.run_id);
            """;

        private const string WriteShownSummaries = """
            UPDATE mappings SET (stage, status, last_job_id, last_run_id, items_done, items_total, updated_at) = (
              SELECT s.stage, s.status, s.last_job_id, s.last_run_id, s.items_done, s.items_total, s.updated_at FROM mapping_states s WHERE s.id = mappings.id)
            WHERE id IN (SELECT mapping_id FROM run_items WHERE NOT dry_run);
            """;

        private const string MaterialiseAllItems = """
            INSERT INTO jobs (id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, created_at, updated_at, dry_run)
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, created_at, updated_at, dry_run FROM derived_jobs;
            """;
    }
}
