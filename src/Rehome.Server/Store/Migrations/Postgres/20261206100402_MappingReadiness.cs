using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
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
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "readiness_checked_at",
                table: "mappings",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "readiness_reasons",
                table: "mappings",
                type: "text",
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
