using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RunMappingsShown : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "mappings_shown_at",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_runs_mappings_shown_at",
                table: "runs",
                column: "mappings_shown_at");

            // Runs whose mappings' rows show them already: every run but those with run items (not a dry run), which
            // the run engine's next tick writes (SummaryCatchUp) and which read through mapping_states until then.
            migrationBuilder.Sql("UPDATE runs SET mappings_shown_at = created_at WHERE dry_run OR NOT EXISTS (SELECT 1 FROM run_items i WHERE i.run_id = runs.id);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_mappings_shown_at",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "mappings_shown_at",
                table: "runs");
        }
    }
}
