using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class JobAreasDryRunRevert : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "dry_run",
                table: "runs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "areas",
                table: "jobs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "dry_run",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<Guid>(
                name: "revert_of",
                table: "jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "reverted_by",
                table: "jobs",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "dry_run",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "areas",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "dry_run",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "revert_of",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "reverted_by",
                table: "jobs");
        }
    }
}
