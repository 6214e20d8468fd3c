using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MappingReadiness : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "readiness",
                table: "mappings",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "readiness_checked_at",
                table: "mappings",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "readiness_reasons",
                table: "mappings",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_mappings_project_id_readiness",
                table: "mappings",
                columns: new[] { "project_id", "readiness" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_mappings_project_id_readiness",
                table: "mappings");

            migrationBuilder.DropColumn(
                name: "readiness",
                table: "mappings");

            migrationBuilder.DropColumn(
                name: "readiness_checked_at",
                table: "mappings");

            migrationBuilder.DropColumn(
                name: "readiness_reasons",
                table: "mappings");
        }
    }
}
