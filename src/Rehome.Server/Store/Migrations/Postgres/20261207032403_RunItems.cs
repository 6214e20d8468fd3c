using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
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
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    project_id = table.Column<Guid>(type: "uuid", nullable: false),
                    mapping_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kinds = table.Column<int>(type: "integer", nullable: false),
                    scheduled = table.Column<bool>(type: "boolean", nullable: false),
                    dry_run = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The jobs still derived from run items become rows first: dropping the items must not lose them.
            migrationBuilder.Sql(MaterialiseAllItems);
            migrationBuilder.Sql("DROP VIEW IF EXISTS all_jobs;");
            migrationBuilder.Sql("DROP VIEW IF EXISTS derived_jobs;");
            migrationBuilder.DropTable(
                name: "run_items");
        }

        private const string DerivedJobsView = """
            CREATE VIEW derived_jobs AS SELECT overlay(ri.id::text placing lpad(to_hex(k.kind), 2, '0') from 35)::uuid AS id, ri.run_id AS run_id, ri.project_id AS project_id, ri.mapping_id AS mapping_id, k.kind AS kind, CASE WHEN ri.scheduled THEN 4 WHEN k.kind IN (2, 3) AND (ri.kinds & 2) <> 0 THEN 3 ELSE 1 END AS status, false AS needs_destination_preparation, CASE WHEN k.kind IN (2, 3) AND (ri.kinds & 2) <> 0 THEN overlay(ri.id::text placing lpad(to_hex(1), 2, '0') from 35)::uuid END AS prerequisite_job_id, 0 AS attempts, ri.created_at AS created_at, NULL::timestamp with time zone AS started_at, NULL::timestamp with time zone AS finished_at, ri.created_at AS updated_at, 0 AS items_done, 0 AS items_total, 0 AS items_changed, 0 AS items_failed, NULL::text AS error_code, NULL::text AS error_message, false AS stop_requested, NULL::uuid AS lease_owner, NULL::uuid AS lease_token, NULL::timestamp with time zone AS lease_expires_at, NULL::uuid AS agent_id, NULL::text AS agent_version, NULL::text AS step, NULL::text AS message, NULL::text AS destination_payload_protected, ri.dry_run AS dry_run, NULL::uuid AS revert_of, NULL::uuid AS reverted_by, NULL::text AS areas, NULL::timestamp with time zone AS directory_failing_since, NULL::timestamp with time zone AS directory_next_try, NULL::interval AS directory_retry_delay, NULL::text AS autopilot_import_id, NULL::text AS autopilot_import_serial, ri.id AS run_item_id
            FROM run_items ri JOIN (SELECT 1 AS kind UNION ALL SELECT 2 AS kind UNION ALL SELECT 3 AS kind UNION ALL SELECT 4 AS kind UNION ALL SELECT 5 AS kind) k ON (ri.kinds & (1 << k.kind)) <> 0;
            """;

        private const string AllJobsView = """
            CREATE VIEW all_jobs AS
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, attempts, created_at, started_at, finished_at, updated_at, items_done, items_total, items_changed, items_failed, error_code, error_message, stop_requested, lease_owner, lease_token, lease_expires_at, agent_id, agent_version, step, message, destination_payload_protected, dry_run, revert_of, reverted_by, areas, directory_failing_since, directory_next_try, directory_retry_delay, autopilot_import_id, autopilot_import_serial FROM jobs
            UNION ALL
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, attempts, created_at, started_at, finished_at, updated_at, items_done, items_total, items_changed, items_failed, error_code, error_message, stop_requested, lease_owner, lease_token, lease_expires_at, agent_id, agent_version, step, message, destination_payload_protected, dry_run, revert_of, reverted_by, areas, directory_failing_since, directory_next_try, directory_retry_delay, autopilot_import_id, autopilot_import_serial FROM derived_jobs;
            """;

        private const string MaterialiseAllItems = """
            INSERT INTO jobs (id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, created_at, updated_at, dry_run)
            SELECT id, run_id, project_id, mapping_id, kind, status, needs_destination_preparation, prerequisite_job_id, created_at, updated_at, dry_run FROM derived_jobs;
            """;
    }
}
