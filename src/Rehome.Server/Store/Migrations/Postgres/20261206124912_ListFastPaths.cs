using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ListFastPaths : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_destination_name",
                table: "mappings");

            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_stage",
                table: "mappings");

            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_status",
                table: "mappings");

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_destination_name_source_device_key",
                table: "mappings",
                columns: new[] { "project_id", "destination_name", "source_device_key" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_stage_source_device_key",
                table: "mappings",
                columns: new[] { "project_id", "stage", "source_device_key" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_status_source_device_key",
                table: "mappings",
                columns: new[] { "project_id", "status", "source_device_key" });

            // The text search's trigram index, which EF Core does not model (hand-written: keep when regenerating).
            MappingSearchSchema.CreatePostgres(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            MappingSearchSchema.DropPostgres(migrationBuilder);

            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_destination_name_source_device_key",
                table: "mappings");

            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_stage_source_device_key",
                table: "mappings");

            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_status_source_device_key",
                table: "mappings");

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_destination_name",
                table: "mappings",
                columns: new[] { "project_id", "destination_name" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_stage",
                table: "mappings",
                columns: new[] { "project_id", "stage" });

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_status",
                table: "mappings",
                columns: new[] { "project_id", "status" });
        }
    }
}
