using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Rehome.Server.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AfterTheMigration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "archived_at",
                table: "projects",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "archived_by",
                table: "projects",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "uninstall_requested_at",
                table: "agents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "uninstall_requested_by",
                table: "agents",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "uninstalled_at",
                table: "agents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "project_archives",
                columns: table => new
                {
                    project_id = table.Column<byte[]>(type: "BLOB", nullable: false),
                    file_name = table.Column<string>(type: "TEXT", nullable: false),
                    content = table.Column<byte[]>(type: "BLOB", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    created_by = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_project_archives", x => x.project_id);
                    table.ForeignKey(
                        name: "fk_project_archives_projects_project_id",
                        column: x => x.project_id,
                        principalTable: "projects",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "project_archives");

            migrationBuilder.DropColumn(
                name: "archived_at",
                table: "projects");

            migrationBuilder.DropColumn(
                name: "archived_by",
                table: "projects");

            migrationBuilder.DropColumn(
                name: "uninstall_requested_at",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "uninstall_requested_by",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "uninstalled_at",
                table: "agents");
        }
    }
}
