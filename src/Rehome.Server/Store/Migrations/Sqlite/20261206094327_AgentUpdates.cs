using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AgentUpdates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "agent_version",
                table: "jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "update_message",
                table: "agents",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "update_outcome",
                table: "agents",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "update_reported_at",
                table: "agents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "agent_packages",
                columns: table => new
                {
                    id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    size_bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    sha256 = table.Column<string>(type: "TEXT", nullable: false),
                    signature = table.Column<string>(type: "TEXT", nullable: false),
                    publisher_key = table.Column<string>(type: "TEXT", nullable: false),
                    uploaded_by = table.Column<string>(type: "TEXT", nullable: false),
                    uploaded_at = table.Column<long>(type: "INTEGER", nullable: false),
                    is_current = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_packages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "agent_package_contents",
                columns: table => new
                {
                    package_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    content = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_package_contents", x => x.package_id);
                    table.ForeignKey(
                        name: "fk_agent_package_contents_agent_packages_package_id",
                        column: x => x.package_id,
                        principalTable: "agent_packages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "agent_package_targets",
                columns: table => new
                {
                    connection_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    package_id = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_agent_package_targets", x => x.connection_id);
                    table.ForeignKey(
                        name: "fk_agent_package_targets_agent_packages_package_id",
                        column: x => x.package_id,
                        principalTable: "agent_packages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_agent_package_targets_connections_connection_id",
                        column: x => x.connection_id,
                        principalTable: "connections",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_agent_package_targets_package_id",
                table: "agent_package_targets",
                column: "package_id");

            migrationBuilder.CreateIndex(
                name: "ix_agent_packages_current",
                table: "agent_packages",
                column: "is_current",
                unique: true,
                filter: "is_current = true");

            migrationBuilder.CreateIndex(
                name: "ix_agent_packages_version",
                table: "agent_packages",
                column: "version",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "agent_package_contents");

            migrationBuilder.DropTable(
                name: "agent_package_targets");

            migrationBuilder.DropTable(
                name: "agent_packages");

            migrationBuilder.DropColumn(
                name: "agent_version",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "update_message",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "update_outcome",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "update_reported_at",
                table: "agents");
        }
    }
}
