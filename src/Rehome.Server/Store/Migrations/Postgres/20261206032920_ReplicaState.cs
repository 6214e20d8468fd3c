using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReplicaState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "autopilot_import_id",
                table: "jobs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "autopilot_import_serial",
                table: "jobs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "directory_failing_since",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "directory_next_try",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<TimeSpan>(
                name: "directory_retry_delay",
                table: "jobs",
                type: "interval",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "autopilot_import_id",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "autopilot_import_serial",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "directory_failing_since",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "directory_next_try",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "directory_retry_delay",
                table: "jobs");
        }
    }
}
