using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class BulkEnrollmentPackageFile : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "bulk_enrollment_package",
                table: "connections");

            migrationBuilder.AddColumn<long>(
                name: "bulk_enrollment_package_bytes",
                table: "connections",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "bulk_enrollment_package_uploaded_at",
                table: "connections",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "connection_packages",
                columns: table => new
                {
                    connection_id = table.Column<Guid>(type: "uuid", nullable: false),
                    protected_content = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_connection_packages", x => x.connection_id);
                    table.ForeignKey(
                        name: "fk_connection_packages_connections_connection_id",
                        column: x => x.connection_id,
                        principalTable: "connections",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "connection_packages");

            migrationBuilder.DropColumn(
                name: "bulk_enrollment_package_bytes",
                table: "connections");

            migrationBuilder.DropColumn(
                name: "bulk_enrollment_package_uploaded_at",
                table: "connections");

            migrationBuilder.AddColumn<string>(
                name: "bulk_enrollment_package",
                table: "connections",
                type: "text",
                nullable: true);
        }
    }
}
